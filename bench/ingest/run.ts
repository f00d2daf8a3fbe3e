// bench/ingest: episode-create throughput and latency of the RoboTrace server vs a bare node:http server doing
// the same single-row insert on the same DB, measured in the same run, load from a second process (autocannon).
// Usage: npx tsx bench/ingest/run.ts [--quick] [--db pglite|postgres|both] [--profile] [--pg-nosync]
//   PostgreSQL runs with its default durability (fsync on: bench/ingest/durable-postgres.ts); --pg-nosync uses
//   the test clusters' settings instead (fsync, synchronous_commit, full_page_writes off).
//   --profile: afterwards, CPU-profile a fresh server under the create load and under the upload flow, and report
//   what dominates (bench/profile.ts).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../test/support/postgres.js';
import { startServer, TEST_API_KEY } from '../../test/support/server.js';
import { type LoadOptions, type LoadResult, loadTest, writeSection } from '../lib.js';
import { summarizeCpuProfile } from '../profile.js';
import { startDurablePostgres } from './durable-postgres.js';
import type { FlowResult } from './flow.js';

const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const pgNoSync = process.argv.includes('--pg-nosync');
const dbArg = process.argv[process.argv.indexOf('--db') + 1];
const dbs = dbArg === 'pglite' || dbArg === 'postgres' ? [dbArg] : ['pglite', 'postgres'];
const duration = quick ? 5 : 20;
const connections = 20;
// Past saturation: far more connections than the server can serve at once (it answers 503 past its in-flight cap).
const saturationConnections = 512;
const flowUploadBytes = 1024 * 1024;
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
  script = 'bench/ingest/baseline.ts',
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
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

/** The SDK flow (create → 1 MB PUT → finalize) from a second process; see bench/ingest/flow.ts. */
async function runFlow(baseUrl: string): Promise<FlowResult> {
  const options = {
    baseUrl,
    apiKey: TEST_API_KEY,
    concurrency: connections,
    durationS: duration,
    uploadBytes: flowUploadBytes,
  };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/ingest/flow.ts', JSON.stringify(options)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`flow load exited ${code}`);
  return JSON.parse(out) as FlowResult;
}

/** Like loadTest, with a fresh Idempotency-Key per request (bench/ingest/keyed-load.ts, its own process). */
async function keyedLoadTest(o: LoadOptions & { freshKey?: boolean }): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/ingest/keyed-load.ts', JSON.stringify(o)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`keyed load exited ${code}`);
  const r = JSON.parse(out) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
    statusCodeStats?: Record<string, { count: number }>;
  };
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([c, st]) => [c, st.count])),
    total: r.requests.total,
  };
}

/** What both SDKs send besides the key (packages/sdk-ts transport.ts; the Python SDK sends the same two). */
const SDK_HEADERS = {
  accept: 'application/json',
  'user-agent': `robotrace-ts/0.1.0 node/${process.versions.node} ${process.platform}/${process.arch}`,
  'x-robotrace-sdk-version': '0.1.0',
};

const share = (r: LoadResult, code: string) =>
  `${((100 * (r.statusCodes[code] ?? 0)) / Math.max(1, r.total)).toFixed(1)} %`;
const extraRows: string[] = [];
const profileRows: string[] = [];
const rows: string[] = [];
const dbLabel = (db: string) => (db === 'postgres' && pgNoSync ? 'postgres (no fsync)' : db);
execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { stdio: 'inherit' });
for (const db of dbs) {
  const pg = db === 'postgres' ? await (pgNoSync ? startPostgres() : startDurablePostgres()) : undefined;
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
  const sdk = (url: string) => ({
    ...req(url, '/api/ingest/episode', true),
    headers: { ...req(url, '', true).headers, ...SDK_HEADERS },
  });
  // Warm both up, then measure alternately so drift on a noisy machine hits every side.
  await loadTest({ ...req(ours.baseUrl, '/api/ingest/episode', true), duration: 2 });
  await keyedLoadTest({ ...sdk(ours.baseUrl), duration: 2 });
  await loadTest({ ...req(bare.url, '/ingest', false), duration: 2 });
  const b: LoadResult = await loadTest(req(bare.url, '/ingest', false));
  const o: LoadResult = await loadTest(req(ours.baseUrl, '/api/ingest/episode', true));
  const k: LoadResult = await keyedLoadTest(sdk(ours.baseUrl));
  // The same generator and SDK headers without the key: what the key itself costs.
  const plainSdk: LoadResult = await keyedLoadTest({ ...sdk(ours.baseUrl), freshKey: false });
  // At idle: one request at a time, so no batch ever has company: what group commit costs a lone request.
  // Right after a keyed load on each server (ours here, the unbatched one below), so both are in the same state.
  const idle = { connections: 1, duration: Math.min(duration, 5) };
  const oIdle = await keyedLoadTest({ ...sdk(ours.baseUrl), ...idle });
  const b2: LoadResult = await loadTest(req(bare.url, '/ingest', false));
  // The baseline is measured before and after ours; the ratio is against their mean.
  const bareRps = (b.rps + b2.rps) / 2;
  // Latency with headroom: open-loop at half of each side's measured max rate (autocannon -R).
  const oHalf = await loadTest({
    ...req(ours.baseUrl, '/api/ingest/episode', true),
    rate: Math.max(1, Math.round(o.rps / 2)),
  });
  const kHalf = await keyedLoadTest({ ...sdk(ours.baseUrl), rate: Math.max(1, Math.round(k.rps / 2)) });
  const bHalf = await loadTest({
    ...req(bare.url, '/ingest', false),
    rate: Math.max(1, Math.round(bareRps / 2)),
  });
  const unbatched = await startServer({
    env: {
      ...ourEnv,
      ROBOTRACE_GROUP_COMMIT_MAX_BATCH: '1',
      ...(pg ? { DATABASE_URL: await pg.createDatabase('bench_unbatched') } : {}),
    },
    dataDir: mkdtempSync(join(tmpdir(), 'rt-bench-')),
  });
  dataDirs.push(unbatched.dataDir);
  await keyedLoadTest({ ...sdk(unbatched.baseUrl), duration: 2 });
  const u = await keyedLoadTest(sdk(unbatched.baseUrl));
  const uIdle = await keyedLoadTest({ ...sdk(unbatched.baseUrl), ...idle });
  await unbatched.stop();
  const bIdle = await loadTest({ ...req(bare.url, '/ingest', false), ...idle });
  const oSat = await loadTest({
    ...req(ours.baseUrl, '/api/ingest/episode', true),
    connections: saturationConnections,
  });
  const bSat = await loadTest({ ...req(bare.url, '/ingest', false), connections: saturationConnections });
  const flow = await runFlow(ours.baseUrl);
  // The same flow against a bare server (bench/ingest/bare-flow.ts): what the machine allows for it at all.
  const bareFlowEnv: Record<string, string> = {
    ROBOTRACE_DATA_DIR: mkdtempSync(join(tmpdir(), 'rt-bench-')),
  };
  dataDirs.push(bareFlowEnv.ROBOTRACE_DATA_DIR ?? '');
  if (pg) bareFlowEnv.DATABASE_URL = await pg.createDatabase('bench_bare_flow');
  const bareFlowServer = await startBaseline(bareFlowEnv, 'bench/ingest/bare-flow.ts');
  const bareFlow = await runFlow(bareFlowServer.url);
  await bareFlowServer.stop();
  const failed =
    Object.entries(flow.failures)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ') || 'none';
  const goal = (r: number) => (r >= 1 ? '✓' : '✗');
  const p99Goal = (p: number) => (p <= 50 ? '✓' : `✗ (by ${p - 50} ms)`);
  extraRows.push(
    `| ${dbLabel(db)} | create, p50 / p99 at half the max rate | ${oHalf.p50} / ${oHalf.p99} ms at ${Math.round(o.rps / 2)} req/s | ${bHalf.p50} / ${bHalf.p99} ms at ${Math.round(bareRps / 2)} req/s | — | p99 ≤ 50 ms ${p99Goal(oHalf.p99)} |`,
    `| ${dbLabel(db)} | create as the SDKs send it, p50 / p99 at half the max rate | ${kHalf.p50} / ${kHalf.p99} ms at ${Math.round(k.rps / 2)} req/s, errors ${kHalf.non2xx + kHalf.errors} | ${bHalf.p50} / ${bHalf.p99} ms at ${Math.round(bareRps / 2)} req/s | — | p99 ≤ 50 ms ${p99Goal(kHalf.p99)} |`,
    `| ${dbLabel(db)} | one request at a time (idle), as the SDKs send it: group commit on / off | on: p50 / p99 ${oIdle.p50} / ${oIdle.p99} ms (${oIdle.rps.toFixed(0)} req/s); off (\`ROBOTRACE_GROUP_COMMIT_MAX_BATCH=1\`): ${uIdle.p50} / ${uIdle.p99} ms (${uIdle.rps.toFixed(0)} req/s) | ${bIdle.p50} / ${bIdle.p99} ms (${bIdle.rps.toFixed(0)} req/s) | on ÷ off: ${(oIdle.rps / Math.max(1, uIdle.rps)).toFixed(2)}× | — |`,
    `| ${dbLabel(db)} | create as the SDKs send it, ${connections} connections, group commit off | ${u.rps.toFixed(0)} req/s, p50 / p99 ${u.p50} / ${u.p99} ms | ${bareRps.toFixed(0)} req/s | ${(u.rps / bareRps).toFixed(2)}× | — |`,
    `| ${dbLabel(db)} | create + 1 MB upload + finalize (SDK headers, fresh keys) | ${flow.flowsPerS.toFixed(0)} flows/s, p50 / p99 ${flow.p50} / ${flow.p99} ms, failed: ${failed} | ${bareRps.toFixed(0)} creates/s | **${(flow.flowsPerS / bareRps).toFixed(2)}×** | ≥ 0.25× ${flow.flowsPerS / bareRps >= 0.25 ? '✓' : '✗'} |`,
    `| ${dbLabel(db)} | the same flow, bare server for both | ${flow.flowsPerS.toFixed(0)} flows/s | ${bareFlow.flowsPerS.toFixed(0)} flows/s (p50 / p99 ${bareFlow.p50} / ${bareFlow.p99} ms); its own ratio to bare creates: ${(bareFlow.flowsPerS / bareRps).toFixed(2)}× | **${(flow.flowsPerS / bareFlow.flowsPerS).toFixed(2)}×** | — |`,
    `| ${dbLabel(db)} | create past saturation (${saturationConnections} connections) | ${oSat.rps.toFixed(0)} req/s, p99 ${oSat.p99} ms; 429: ${share(oSat, '429')}, 503: ${share(oSat, '503')}, timeouts: ${oSat.timeouts}, errors: ${oSat.errors} | ${bSat.rps.toFixed(0)} req/s, p99 ${bSat.p99} ms, timeouts: ${bSat.timeouts} | ${(oSat.rps / Math.max(1, bSat.rps)).toFixed(2)}× | no timeouts ${oSat.timeouts === 0 ? '✓' : '✗'} |`,
  );
  rows.push(
    `| ${dbLabel(db)} | create episode (no key) | ${o.rps.toFixed(0)} | ${o.p50} / ${o.p99} | ${bareRps.toFixed(0)} (${b.rps.toFixed(0)}, ${b2.rps.toFixed(0)}) | ${b.p50} / ${b.p99} | **${(o.rps / bareRps).toFixed(2)}×** ${goal(o.rps / bareRps)} | ${o.non2xx + o.errors} / ${b.non2xx + b.errors} |`,
    `| ${dbLabel(db)} | create as the SDKs send it (fresh Idempotency-Key, SDK headers) | ${k.rps.toFixed(0)} | ${k.p50} / ${k.p99} | ${bareRps.toFixed(0)} | ${b.p50} / ${b.p99} | **${(k.rps / bareRps).toFixed(2)}×** ${goal(k.rps / bareRps)}; with ÷ without the key (same generator, SDK headers: ${plainSdk.rps.toFixed(0)} req/s) ${(k.rps / plainSdk.rps).toFixed(2)}× ${k.rps / plainSdk.rps >= 0.9 ? '✓' : '✗'} | ${k.non2xx + k.errors} / ${b2.non2xx + b2.errors} |`,
  );
  await ours.stop();
  await bare.stop();
  if (profile) {
    // A fresh server per load, profiled apart from the measured runs (profiling slows it a little).
    for (const load of ['create', 'flow'] as const) {
      const dir = join(dataDirs[0] ?? tmpdir(), `cpu-prof-${load}`);
      mkdirSync(dir, { recursive: true });
      const env = pg ? { ...ourEnv, DATABASE_URL: await pg.createDatabase(`bench_prof_${load}`) } : ourEnv;
      const dataDir = mkdtempSync(join(tmpdir(), 'rt-bench-prof-'));
      dataDirs.push(dataDir);
      const server = await startServer({ env, dataDir, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
      if (load === 'create') await loadTest(req(server.baseUrl, '/api/ingest/episode', true));
      else await runFlow(server.baseUrl);
      await server.stop();
      const top = summarizeCpuProfile(dir)
        .slice(0, 6)
        .map(([name, share]) => `${name} ${(share * 100).toFixed(0)} %`)
        .join(', ');
      profileRows.push(
        `| ${dbLabel(db)} | ${load === 'create' ? 'create episode' : 'create + 1 MB upload + finalize'} | ${top} |`,
      );
    }
  }
  await pg?.stop();
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
}

const READING = [
  'Reading: creates and finalizes go through group commit (packages/core/src/ingest-batch.ts): concurrent creates',
  'are written by one statement per batch, their Idempotency-Key rows claimed in the same statement, so the keyed',
  'path costs one extra row per create, not a transaction of its own. The bare baseline commits once per request.',
  'The idle row sends one request at a time: a lone request never waits for the window (it goes at the next turn',
  "of the event loop), so what it shows is our per-request work against the bare server's, with batching on and off.",
  'The flow goal (≥ 0.25× the bare create rate) sets one 1 MB upload plus two more requests against a single-row',
  'insert; the "bare server for both" row runs the same flow against a bare server (same DB, same disk, no checks):',
  'its own ratio is the ceiling this machine allows. PostgreSQL here is a fresh local cluster with default',
  "durability on this machine's disk, where a flush is cheap, so the PostgreSQL rows are bound by CPU (the server,",
  'PostgreSQL and the load generator share 2 cores), not by commits. Absolute numbers move with the load of the',
  'shared machine (other agents ran builds and tests during these runs); each ratio is measured in the same run.',
].join('\n');

const table = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. Command: \`npx tsx bench/ingest/run.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\`, ${new Date().toISOString().slice(0, 10)}. PostgreSQL: ${pgNoSync ? "the test clusters' settings (fsync, synchronous_commit, full_page_writes off)" : 'default durability (fsync on), a fresh cluster'}.`,
  `Load: autocannon in a second process, ${connections} connections, ${duration} s per side, loopback. Goals (issue 13): plain and keyed creates ≥ 1.0× the bare baseline, 0 errors, p99 ≤ 50 ms at half the max rate; keyed within 10 % of plain. The bare baseline runs before and after ours; its mean is the ratio's base.`,
  '',
  '| DB | operation | ours req/s | ours p50 / p99 ms | bare req/s | bare p50 / p99 ms | ratio | errors (ours / bare) |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  `More cases, same servers: open-loop latency at half each side's max rate; the SDK flow (create with one slot → PUT ${flowUploadBytes / 1024 / 1024} MB to the signed local URL → finalize) from a second process with ${connections} workers, against the bare server's create rate; and ${saturationConnections} connections, past what either serves at once.`,
  '',
  '| DB | case | ours | bare | ratio | goal |',
  '|---|---|---|---|---|---|',
  ...extraRows,
  '',
  READING,
  ...(profileRows.length > 0
    ? [
        '',
        'Where the server spends its CPU (`--profile`: `node --cpu-prof` of a fresh server under each load; each sample counted once, under the first of pg / PGlite, drizzle, zod, fs, crypto, JSON, HTTP on its stack — bench/profile.ts):',
        '',
        '| DB | load | top of the profile |',
        '|---|---|---|',
        ...profileRows,
      ]
    : []),
].join('\n');
process.stdout.write(`${table}\n`);
writeSection('Ingest', table);
