-- The planner prices `<search text> ILIKE '%fragment%'` from this expression's histogram: with the default 101
-- bounds, a fragment found in one or two of them (one short git sha in ~100 at 1M episodes) is priced at ~1 % of
-- the rows, so the search walks the newest-first index for 51 matches that are really ~90 rows far back: 360 ms
-- to 1.2 s at 1M rows, where the trigram index answers in 2-4 ms. With 3,001 bounds such a fragment is priced at
-- a few hundred rows and goes to the trigram index, while a fragment in a fifth of the rows still walks. Measured
-- on PostgreSQL 15 at 1M rows: 1-3 hits bitmap (2-4 ms), `ock` walk (2 ms), planning 1.5-1.9 ms instead of
-- 0.1-0.4 ms, ANALYZE 12 s instead of 0.4 s. Takes effect at the next ANALYZE (autovacuum's, on PostgreSQL).
ALTER INDEX "episode_search_trgm_idx" ALTER COLUMN 1 SET STATISTICS 3000;
