import { resolve } from 'node:path';
import { createDb, type DbHandle } from '@robotrace/db';
import type { Env } from './env.js';

/** The database the configuration names: PostgreSQL with DATABASE_URL, else the embedded PGlite in the data dir. */
export function openDatabase(env: Env): Promise<DbHandle> {
  return env.DATABASE_URL
    ? createDb({ kind: 'postgres', url: env.DATABASE_URL, poolMax: env.ROBOTRACE_DB_POOL_MAX })
    : createDb({ kind: 'pglite', dataDir: resolve(env.ROBOTRACE_DATA_DIR) });
}
