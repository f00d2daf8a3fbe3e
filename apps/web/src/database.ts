import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createDb, type DbHandle, describeTarget } from '@robotrace/db';
import type { Env } from './env.js';

/** The database the configuration names: PostgreSQL with DATABASE_URL, else the embedded PGlite in the data dir. */
export function openDatabase(env: Env): Promise<DbHandle> {
  return env.DATABASE_URL
    ? createDb({ kind: 'postgres', url: env.DATABASE_URL, poolMax: env.ROBOTRACE_DB_POOL_MAX })
    : createDb({ kind: 'pglite', dataDir: resolve(env.ROBOTRACE_DATA_DIR) });
}

/** Which database that is, in words an operator can check (never the password). */
export function describeDatabase(env: Env): string {
  return env.DATABASE_URL
    ? `PostgreSQL at ${describeTarget(env.DATABASE_URL)}`
    : `embedded PGlite in ${resolve(env.ROBOTRACE_DATA_DIR)}`;
}

/** Whether the embedded database was ever created (a server started on this data dir at least once). */
export function embeddedDatabaseExists(env: Env): boolean {
  return existsSync(join(resolve(env.ROBOTRACE_DATA_DIR), 'pgdata'));
}
