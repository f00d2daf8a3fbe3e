-- No GIN pending list for the search index (see schema.ts); an ALTER rather than drizzle-kit's drop + create, so
-- a database upgraded past 0006 does not build the index twice.
ALTER INDEX "episode_search_trgm_idx" SET (fastupdate = off);
