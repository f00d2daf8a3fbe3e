-- The created_at index serves only the hourly prune of expired keys: a BRIN summary costs the keyed create path
-- next to nothing per row where a B-tree cost a tree insert per keyed create (issue 13).
DROP INDEX "idempotency_created_idx";--> statement-breakpoint
CREATE INDEX "idempotency_created_brin" ON "idempotency_key" USING brin ("created_at");