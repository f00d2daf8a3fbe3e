-- A create with an Idempotency-Key makes the episode whose id the key derives (ids.ts episodeIdForKey): the
-- episode's primary key makes the key single-use, and the key costs no row of its own. Kept here: the hash of the
-- body it was first sent with, so the same key with another body is refused. Keys of other operations
-- (finalize, delete, eval runs) stay in idempotency_key.
ALTER TABLE "episode" ADD COLUMN "request_hash" text;