import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
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
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * PostgreSQL could not be reached or refused us: one line naming where (never the password) and the driver's
 * reason, e.g. `cannot connect to PostgreSQL at db:5432/robotrace: password authentication failed for user "rt"`.
 */
export class DatabaseConnectError extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot connect to PostgreSQL at ${describeTarget(url)}: ${connectReason(cause)}`, { cause });
    this.name = 'DatabaseConnectError';
  }
}

/** `host:port/database` of a connection URL, without its credentials. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? (u.hostname || 'localhost');
    return `${host}:${u.port || '5432'}/${decodeURIComponent(u.pathname.slice(1)) || '(default database)'}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

const HINTS: Record<string, string> = {
  ECONNREFUSED: ' (nothing listens there: is PostgreSQL running, and listening on that address and port?)',
  ENOTFOUND: ' (no such host name)',
  EAI_AGAIN: ' (the host name could not be resolved now)',
  '3D000': ' (create it: DEPLOY.md §1)',
};

function connectReason(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: { message?: string }[] } | undefined;
  // Node reports a host with several addresses (localhost: ::1 and 127.0.0.1) as an AggregateError without a
  // message of its own.
  const message = e?.message || e?.errors?.map((x) => x.message).join('; ') || String(err ?? 'unknown error');
  if (/timeout exceeded when trying to connect/i.test(message))
    return `no answer within ${CONNECT_TIMEOUT_MS / 1000} s (a firewall, or a wrong host or port?)`;
  return `${message}${HINTS[e?.code ?? ''] ?? ''}`;
}

export async function createDb(options: DbOptions): Promise<DbHandle> {
  if (options.kind === 'pglite') {
    const release = options.lock === false ? () => {} : acquireDirLock(options.dataDir);
    try {
      // pg_trgm backs the search box's trigram index (migration 0006), as on PostgreSQL.
      const client = await PGlite.create(join(options.dataDir, 'pgdata'), { extensions: { pg_trgm } });
      // New 16 MB WAL segments are not zero-filled first: through PGlite's emulated file system the filling
      // stalled its one backend ~50 ms every 16 MB of WAL (every ~3 s at 2,500 creates/s), which set the ingest
      // p99 at half the max rate (bench/ingest). Recovery never trusts old bytes (WAL records carry CRCs); this
      // is PostgreSQL's own switch for file systems where the filling buys nothing.
      await client.exec('SET wal_init_zero = off');
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
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
  });
  // An idle client losing its server (a PostgreSQL restart) must not crash the process.
  pool.on('error', () => {});
  // One connection now, so a wrong password or an unreachable server stops the start with the driver's own
  // reason, not later as a "Failed query" of whatever runs first.
  try {
    (await pool.connect()).release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new DatabaseConnectError(options.url, err);
  }
  const db = drizzleNodePg({ client: pool, schema }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    migrate: async () => {
      const client = new pg.Client({
        connectionString: options.url,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
      await client.connect().catch((err: unknown) => {
        throw new DatabaseConnectError(options.url, err);
      });
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
