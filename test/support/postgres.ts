import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where Debian installed PostgreSQL's binaries (scripts/setup-system.sh: apt-get install postgresql). */
export function pgBinDir(): string {
  for (const v of ['17', '16', '15', '14']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  throw new Error('PostgreSQL not found: run scripts/setup-system.sh (apt-get install postgresql)');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface TestPostgres {
  port: number;
  /** The directory of the Unix socket (libpq's PGHOST for the superuser, always trusted there). */
  socketDir: string;
  /** Where Debian installed the binaries (psql, pg_isready…). */
  binDir: string;
  /** A fresh, empty database on this cluster. */
  createDatabase: (name?: string) => Promise<string>;
  /** Runs SQL as the superuser over the socket. */
  admin: (sql: string) => Promise<void>;
  stop: () => Promise<void>;
  /** Fast stop + start of the same cluster (for recovery tests). */
  restart: () => Promise<void>;
}

export interface ClusterOptions {
  /**
   * PostgreSQL's default durability (fsync, synchronous_commit, full_page_writes on), as production runs it —
   * for benchmarks, where a free commit would hide what group commit saves. Off by default: tests go faster.
   */
  durable?: boolean;
  /**
   * TCP connections need a role's password (scram-sha-256), as after `apt-get install postgresql`; by default
   * every connection is trusted, so a wrong password would pass.
   */
  passwords?: boolean;
}

// initdb and postgres refuse to run as root; as root the tests run them as the `postgres` system user
// (spawned with its uid directly, so signals reach postgres itself).
function pgUser(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/** A throwaway PostgreSQL cluster in a temp dir on a free loopback port; removed on stop. */
export async function startPostgres(options: ClusterOptions = {}): Promise<TestPostgres> {
  const binDir = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'robotrace-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  const user = pgUser();
  const auth = options.passwords ? ['--auth-local=trust', '--auth-host=scram-sha-256'] : ['-A', 'trust'];
  const initdb = [
    '-D',
    data,
    '-U',
    'postgres',
    ...auth,
    '-E',
    'UTF8',
    ...(options.durable ? [] : ['--no-sync']),
  ];
  execFileSync(join(binDir, 'initdb'), initdb, { stdio: 'ignore', ...user });
  const port = await freePort();
  const settings = [
    'max_connections=200',
    ...(options.durable ? [] : ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off']),
  ];
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-k',
    dir,
    ...settings.flatMap((s) => ['-c', s]),
  ];
  const admin = async (sql: string) => {
    const c = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  let child: ReturnType<typeof spawn> | undefined;
  const start = async () => {
    const server = spawn(join(binDir, 'postgres'), args, { stdio: 'ignore', ...user });
    child = server;
    for (let i = 0; ; i++) {
      try {
        await admin('select 1');
        return;
      } catch (err) {
        if (i >= 100 || server.exitCode !== null) throw new Error(`PostgreSQL did not start: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const stopServer = async () => {
    const server = child;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGINT'); // fast shutdown
    await exited;
  };
  await start();
  let counter = 0;
  return {
    port,
    socketDir: dir,
    binDir,
    admin,
    createDatabase: async (name = `rt_${process.pid}_${++counter}`) => {
      await admin(`create database "${name}"`);
      return `postgresql://postgres@127.0.0.1:${port}/${name}`;
    },
    stop: async () => {
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopServer();
      await start();
    },
  };
}
