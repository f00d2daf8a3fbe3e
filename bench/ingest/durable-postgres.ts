// A throwaway PostgreSQL cluster with PostgreSQL's default durability (fsync, synchronous_commit and
// full_page_writes on), as production runs it. The test clusters (test/support/postgres.ts) turn all three off
// for speed, which makes a commit nearly free and hides what group commit saves: one flush per batch instead
// of one per request. Same binaries, same temp-dir layout.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, type TestPostgres } from '../../test/support/postgres.js';

function pgBin(name: string): string {
  for (const v of ['17', '16', '15', '14']) {
    const p = `/usr/lib/postgresql/${v}/bin/${name}`;
    if (existsSync(p)) return p;
  }
  throw new Error(`PostgreSQL's ${name} not found: run scripts/setup-system.sh`);
}

/** initdb and postgres refuse to run as root: as root they run as the `postgres` system user. */
function pgUser(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export async function startDurablePostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'robotrace-bench-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  const user = pgUser();
  execFileSync(pgBin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8'], {
    stdio: 'ignore',
    ...user,
  });
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'max_connections=200'];
  let child = spawn(pgBin('postgres'), args, { stdio: 'ignore', ...user });
  const start = async () => {
    for (let i = 0; i < 100; i++) {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
      try {
        await c.connect();
        await c.end();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('PostgreSQL did not start');
  };
  const stopServer = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  };
  await start();
  return {
    port,
    createDatabase: async (name = `bench_${Date.now()}`) => {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
      await c.connect();
      await c.query(`create database "${name}"`);
      await c.end();
      return `postgresql://postgres@127.0.0.1:${port}/${name}`;
    },
    stop: async () => {
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopServer();
      child = spawn(pgBin('postgres'), args, { stdio: 'ignore', ...user });
      await start();
    },
  };
}
