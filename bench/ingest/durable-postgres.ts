// A throwaway PostgreSQL cluster with PostgreSQL's default durability (fsync, synchronous_commit and
// full_page_writes on), as production runs it. The test clusters turn all three off for speed, which makes a
// commit nearly free and hides what group commit saves: one flush per batch instead of one per request.
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';

export function startDurablePostgres(): Promise<TestPostgres> {
  return startPostgres({ durable: true });
}
