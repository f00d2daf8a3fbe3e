-- No GIN pending list for the search index (see schema.ts); an ALTER rather than drizzle-kit's drop + create, so
-- a database upgraded past 0006 does not build the index twice.
ALTER INDEX "episode_search_trgm_idx" SET (fastupdate = off);
--> statement-breakpoint
-- The ALTER stops new entries going to the pending list; this merges the ones already there.
SELECT gin_clean_pending_list('episode_search_trgm_idx');
