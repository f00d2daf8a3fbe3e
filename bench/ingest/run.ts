// bench/ingest: episode-create throughput and latency of the RoboTrace server vs a bare node:http server doing
// the same single-row insert on the same DB, measured in the same run, load from a second process (autocannon).
// Usage: npx tsx bench/ingest/run.ts [--quick] [--db pglite|postgres|both]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../test/support/postgres.js';
import { startServer, TEST_API_KEY } from '../../test/support/server.js';
import { type LoadResult, loadTest, writeSection } from '../lib.js';

const quick = process.argv.includes('--quick');
const dbArg = process.argv[process.argv.indexOf('--db') + 1];
const dbs = dbArg === 'pglite' || dbArg === 'postgres' ? [dbArg] : ['pglite', 'postgres'];
const duration = quick ? 5 : 20;
const connections = 20;
const body = JSON.stringify({
  source: 'sim',
  name: 'bench-episode',
  policy_version: 'pi-0.3.1',
  seed: 7,
  metadata: { task: 'pick', success: true },
  otel: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
});

async function startBaseline(
  env: Record<string, string>,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/ingest/baseline.ts'], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      const m = /listening on (http:\/\/\S+)/.exec(b.toString());
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`baseline exited ${code}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const rows: string[] = [];
execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { stdio: 'inherit' });
for (const db of dbs) {
  const pg = db === 'postgres' ? await startPostgres() : undefined;
  const dataDirs = [mkdtempSync(join(tmpdir(), 'rt-bench-')), mkdtempSync(join(tmpdir(), 'rt-bench-'))];
  const ourEnv: Record<string, string> = { ROBOTRACE_LOG_LEVEL: 'warn' };
  const baseEnv: Record<string, string> = { ROBOTRACE_DATA_DIR: dataDirs[1] ?? '' };
  if (pg) {
    ourEnv.DATABASE_URL = await pg.createDatabase('bench_ours');
    ourEnv.ROBOTRACE_SECRET = 'x'.repeat(64);
    baseEnv.DATABASE_URL = await pg.createDatabase('bench_bare');
  }
  const ours = await startServer({ env: ourEnv, dataDir: dataDirs[0] });
  const bare = await startBaseline(baseEnv);
  const req = (url: string, path: string, auth: boolean) => ({
    url: `${url}${path}`,
    method: 'POST' as const,
    headers: {
      'content-type': 'application/json',
      ...(auth ? { authorization: `Bearer ${TEST_API_KEY}` } : {}),
    },
    body,
    connections,
    duration,
  });
  // Warm both up, then measure alternately so drift on a noisy machine hits both sides.
  await loadTest({ ...req(ours.baseUrl, '/api/ingest/episode', true), duration: 2 });
  await loadTest({ ...req(bare.url, '/ingest', false), duration: 2 });
  const o: LoadResult = await loadTest(req(ours.baseUrl, '/api/ingest/episode', true));
  const b: LoadResult = await loadTest(req(bare.url, '/ingest', false));
  rows.push(
    `| ${db} | create episode | ${o.rps.toFixed(0)} | ${o.p50} / ${o.p99} | ${b.rps.toFixed(0)} | ${b.p50} / ${b.p99} | **${(o.rps / b.rps).toFixed(2)}×** | ${o.non2xx + o.errors} / ${b.non2xx + b.errors} |`,
  );
  await ours.stop();
  await bare.stop();
  await pg?.stop();
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
}

const table = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. Command: \`npx tsx bench/ingest/run.ts${quick ? ' --quick' : ''}\`, ${new Date().toISOString().slice(0, 10)}.`,
  `Load: autocannon in a second process, ${connections} connections, ${duration} s per side, loopback. Goal: ≥ 0.5× the bare baseline.`,
  '',
  '| DB | operation | ours req/s | ours p50 / p99 ms | bare req/s | bare p50 / p99 ms | ratio | errors (ours / bare) |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
].join('\n');
process.stdout.write(`${table}\n`);
writeSection('Ingest', table);
