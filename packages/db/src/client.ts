import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { acquireDirLock } from './dir-lock.js';
import { schema } from './schema.js';

export type Schema = typeof schema;
/** The one database type the core queries against: PGlite and PostgreSQL behind the same Drizzle API. */
export type Database = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export interface DbHandle {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** Answers when the database does (used by /api/health). */
  ping: () => Promise<void>;
  migrate: () => Promise<void>;
  close: () => Promise<void>;
}

export type DbOptions =
  | { kind: 'pglite'; dataDir: string; lock?: boolean }
  | { kind: 'postgres'; url: string; poolMax?: number; statementTimeoutMs?: number };

/** Migrations ship next to the bundled server (dist/migrations) or live in packages/db/migrations. */
export function migrationsDir(): string {
  const candidates = [
    fileURLToPath(new URL('./migrations', import.meta.url)),
    fileURLToPath(new URL('../migrations', import.meta.url)),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'meta', '_journal.json')));
  if (!found) throw new Error(`migrations not found (looked in ${candidates.join(', ')})`);
  return found;
}

const MIGRATION_LOCK_ID = 727_274_001; // arbitrary, constant: serialises migrations of several instances

export async function createDb(options: DbOptions): Promise<DbHandle> {
  if (options.kind === 'pglite') {
    const release = options.lock === false ? () => {} : acquireDirLock(options.dataDir);
    try {
      const client = await PGlite.create(join(options.dataDir, 'pgdata'));
      const db = drizzlePglite({ client, schema }) as unknown as Database;
      return {
        db,
        kind: 'pglite',
        ping: async () => {
          await client.query('select 1');
        },
        migrate: async () => {
          await migratePglite(db as never, { migrationsFolder: migrationsDir() });
        },
        close: async () => {
          await client.close();
          release();
        },
      };
    } catch (err) {
      release();
      throw err;
    }
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: 5_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
  });
  // An idle client losing its server (a PostgreSQL restart) must not crash the process.
  pool.on('error', () => {});
  const db = drizzleNodePg({ client: pool, schema }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    migrate: async () => {
      const client = new pg.Client({ connectionString: options.url });
      await client.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
        await migrateNodePg(drizzleNodePg({ client, schema }), { migrationsFolder: migrationsDir() });
      } finally {
        await client.end();
      }
    },
    close: async () => {
      await pool.end();
    },
  };
}
