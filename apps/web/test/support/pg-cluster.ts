import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../../../test/support/postgres.js';

/**
 * A throwaway PostgreSQL cluster (Debian's binaries) that checks passwords the way a real server does: TCP
 * connections need a role's password (scram-sha-256), and only the superuser's socket is trusted — what an
 * operator finds after `apt-get install postgresql`. The shared test/support/postgres.ts trusts every connection,
 * so a wrong password would pass there.
 */
export interface PasswordPostgres {
  port: number;
  /** The directory of the Unix socket (libpq's PGHOST for the superuser). */
  socketDir: string;
  /** Where Debian installed the binaries (psql, pg_isready…). */
  binDir: string;
  /** Runs SQL as the superuser over the socket. */
  admin: (sql: string) => Promise<void>;
  stop: () => Promise<void>;
}

export function pgBinDir(): string {
  for (const v of ['17', '16', '15', '14']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  throw new Error('PostgreSQL not found: run scripts/setup-system.sh (apt-get install postgresql)');
}

// initdb and postgres refuse to run as root: as root they run as the `postgres` system user.
function pgUser(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  };
}

export async function startPasswordPostgres(): Promise<PasswordPostgres> {
  const binDir = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'robotrace-pgpw-'));
  chmodSync(dir, 0o777);
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  const data = join(dir, 'data');
  const user = pgUser();
  execFileSync(
    join(binDir, 'initdb'),
    [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--no-sync',
    ],
    { stdio: 'ignore', ...user },
  );
  const port = await freePort();
  const settings = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=200'];
  const child = spawn(
    join(binDir, 'postgres'),
    ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, ...settings.flatMap((s) => ['-c', s])],
    { stdio: 'ignore', ...user },
  );
  const admin = async (sql: string) => {
    const c = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  for (let i = 0; ; i++) {
    try {
      await admin('select 1');
      break;
    } catch (err) {
      if (i >= 100 || child.exitCode !== null) throw new Error(`PostgreSQL did not start: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    socketDir: dir,
    binDir,
    admin,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT'); // fast shutdown
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
