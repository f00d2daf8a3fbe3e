import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { type TempCore, tempCore } from './temp-core.js';

export type DatabaseKind = 'pglite' | 'postgres';
export const DATABASE_KINDS: DatabaseKind[] = ['pglite', 'postgres'];

/**
 * For a describe block: a fresh core on the given database before all its tests (PostgreSQL: a throwaway
 * cluster), closed after. The getter is read inside tests, once beforeAll has run.
 */
export function coreOn(kind: DatabaseKind): () => TempCore {
  let core: TempCore | undefined;
  let pg: TestPostgres | undefined;
  beforeAll(async () => {
    if (kind === 'postgres') pg = await startPostgres();
    core = await tempCore(pg ? await pg.createDatabase() : undefined);
  });
  afterAll(async () => {
    await core?.close();
    await pg?.stop();
  });
  return () => {
    if (!core) throw new Error('core is not started yet');
    return core;
  };
}
