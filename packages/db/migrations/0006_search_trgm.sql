-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it; PGlite loads it in createDb.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "episode_search_trgm_idx" ON "episode" USING gin ((coalesce("name", '') || E'\n' || coalesce("robot", '') || E'\n' || coalesce("policy_version", '') || E'\n' || coalesce("git_sha", '')) gin_trgm_ops);