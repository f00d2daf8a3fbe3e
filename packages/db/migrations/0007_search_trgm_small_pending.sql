-- The search index keeps a small pending list (see schema.ts); an ALTER rather than drizzle-kit's drop + create,
-- so a database upgraded past 0006 does not build the index twice.
ALTER INDEX "episode_search_trgm_idx" SET (fastupdate = on, gin_pending_list_limit = 64);
--> statement-breakpoint
-- Merges what already waits in the list (up to 4 MB under the old limit), so the planner prices the index right.
SELECT gin_clean_pending_list('episode_search_trgm_idx');
