// bench/ingest: episode-create throughput and latency of the RoboTrace server vs a bare node:http server doing
// the same single-row insert on the same DB, measured in the same run, load from a second process (autocannon).
// Usage: npx tsx bench/ingest/run.ts [--quick] [--db pglite|postgres|both] [--rounds N] [--creates-only]
//          [--profile] [--pg-nosync]
//   Every create row, ours and the bare baseline alike, runs through one generator (keyed-load.ts) with the same
//   headers (the SDKs', the Bearer key, and a fresh Idempotency-Key for the keyed rows), so a ratio compares
//   servers, not generators. --rounds: the comparison is repeated N times (default 3), each round with the
//   machine's load average; --creates-only skips the idle, unbatched, flow and saturation rows.
//   p99 at half the max rate is open-loop (open-loop.ts: evenly spaced requests, latency from when each was due).
//   PostgreSQL runs with its default durability (fsync on: bench/ingest/durable-postgres.ts); --pg-nosync uses
//   the test clusters' settings instead (fsync, synchronous_commit, full_page_writes off).
//   --profile: afterwards, CPU-profile a fresh server under the create load and under the upload flow, and report
//   what dominates (bench/profile.ts).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../test/support/postgres.js';
import { startServer, TEST_API_KEY } from '../../test/support/server.js';
import { keyedLoadTest, type LoadResult, runJsonScript, writeSection } from '../lib.js';
import { summarizeCpuProfile } from '../profile.js';
import { postgresCpu, processCpu } from './cpu-time.js';
import { startDurablePostgres } from './durable-postgres.js';
import type { FlowResult } from './flow.js';
import { INGEST_BODY, SDK_HEADERS } from './load-shape.js';
import type { OpenLoopOptions, OpenLoopResult } from './open-loop.js';

const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const pgNoSync = process.argv.includes('--pg-nosync');
const createsOnly = process.argv.includes('--creates-only');
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg === -1 ? 3 : Math.max(1, Number(process.argv[roundsArg + 1]));
const dbArg = process.argv[process.argv.indexOf('--db') + 1];
const dbs = dbArg === 'pglite' || dbArg === 'postgres' ? [dbArg] : ['pglite', 'postgres'];
const duration = quick ? 5 : 20;
const connections = 20;
// Past saturation: far more connections than the server can serve at once (it answers 503 past its in-flight cap).
const saturationConnections = 512;
const flowUploadBytes = 1024 * 1024;
const body = INGEST_BODY;

async function startBaseline(
  env: Record<string, string>,
  script = 'bench/ingest/baseline.ts',
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
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
    pid: child.pid ?? 0,
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
  return runJsonScript<FlowResult>('bench/ingest/flow.ts', options);
}

/** The load average of the shared machine (1, 5, 15 min), reported with every round. */
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Open-loop latency at a fixed rate (bench/ingest/open-loop.ts, its own process). */
async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  return runJsonScript<OpenLoopResult>('bench/ingest/open-loop.ts', o);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

const share = (r: LoadResult, code: string) =>
  `${((100 * (r.statusCodes[code] ?? 0)) / Math.max(1, r.total)).toFixed(1)} %`;
const extraRows: string[] = [];
const halfRows: string[] = [];
const halfGoals: string[] = [];
const pooledRows: string[] = [];
const profileRows: string[] = [];
const rows: string[] = [];
const dbLabel = (db: string) => (db === 'postgres' && pgNoSync ? 'postgres (no fsync)' : db);
execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { stdio: 'inherit' });
for (const db of dbs) {
  const pg = db === 'postgres' ? await (pgNoSync ? startPostgres() : startDurablePostgres()) : undefined;
  const dataDirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'rt-bench-')));
  const ourEnv: Record<string, string> = { ROBOTRACE_LOG_LEVEL: 'warn' };
  const plainEnv: Record<string, string> = { ROBOTRACE_LOG_LEVEL: 'warn' };
  const baseEnv: Record<string, string> = { ROBOTRACE_DATA_DIR: dataDirs[1] ?? '' };
  if (pg) {
    ourEnv.DATABASE_URL = await pg.createDatabase('bench_ours');
    ourEnv.ROBOTRACE_SECRET = 'x'.repeat(64);
    plainEnv.DATABASE_URL = await pg.createDatabase('bench_ours_plain');
    plainEnv.ROBOTRACE_SECRET = 'x'.repeat(64);
    baseEnv.DATABASE_URL = await pg.createDatabase('bench_bare');
  }
  // Two servers of ours, one fed creates as the SDKs send them, one creates without a key, each with its own
  // database, measured alternately with the same history: a server's rate changes as its tables grow (PGlite:
  // ~180 -> ~225 µs per create once they outgrow its 128 MB of shared buffers, with or without the key), so
  // keyed and plain slices on one server compared different table sizes, whichever ran second paying more.
  const ours = await startServer({ env: ourEnv, dataDir: dataDirs[0] });
  const oursPlainServer = await startServer({ env: plainEnv, dataDir: dataDirs[2] });
  const bare = await startBaseline(baseEnv);
  // One request shape for both servers: the SDKs' headers and our Bearer key (the bare server ignores both).
  const target = (url: string, path: string) => ({
    url: `${url}${path}`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}`, ...SDK_HEADERS },
    body,
    connections,
    duration,
  });
  const oursCreate = target(ours.baseUrl, '/api/ingest/episode');
  const oursPlain = { ...target(oursPlainServer.baseUrl, '/api/ingest/episode'), freshKey: false };
  const bareCreate = target(bare.url, '/ingest');
  const plain = { freshKey: false };
  // Warm both up, then measure in rounds, each pair of ours and bare back to back, so drift hits every side.
  await keyedLoadTest({ ...oursCreate, duration: 2 });
  await keyedLoadTest({ ...oursPlain, duration: 2 });
  await keyedLoadTest({ ...bareCreate, duration: 2 });
  // CPU per create, of the server process and of the PostgreSQL cluster (PGlite runs inside the server).
  const dbCpu = pg ? postgresCpu(pg.port) : () => 0;
  const withCpu = async (server: () => number, o: Parameters<typeof keyedLoadTest>[0]) => {
    const [s0, d0] = [server(), dbCpu()];
    const r = await keyedLoadTest(o);
    const per = (ms: number) => (ms * 1000) / Math.max(1, r.total);
    return { ...r, serverUs: per(server() - s0), dbUs: per(dbCpu() - d0) };
  };
  type Measured = Awaited<ReturnType<typeof withCpu>>;
  const oursCpu = processCpu(ours.pid() ?? 0);
  const oursPlainCpu = processCpu(oursPlainServer.pid() ?? 0);
  const bareCpu = processCpu(bare.pid);
  interface Round {
    load: string;
    bareKeyed: Measured;
    keyed: Measured;
    plain: Measured;
    barePlain: Measured;
  }
  const measured: Round[] = [];
  for (let round = 0; round < rounds; round++) {
    const load = loadAverage();
    // ABBA: every other round runs the four loads in reverse order, so no side always follows the same one (a
    // load's aftermath — autovacuum, a checkpoint, a WAL segment — lands on whichever runs next).
    const steps = [
      () => withCpu(bareCpu, bareCreate),
      () => withCpu(oursCpu, oursCreate),
      () => withCpu(oursPlainCpu, oursPlain),
      () => withCpu(bareCpu, { ...bareCreate, ...plain }),
    ];
    const results: Measured[] = new Array(steps.length);
    const order = round % 2 === 0 ? [0, 1, 2, 3] : [3, 2, 1, 0];
    for (const i of order) results[i] = await (steps[i] as () => Promise<Measured>)();
    const [bareKeyed, keyed, plainResult, barePlain] = results as [Measured, Measured, Measured, Measured];
    measured.push({ load, bareKeyed, keyed, plain: plainResult, barePlain });
  }
  // Keyed ÷ plain once more, the two servers loaded at the same time (each with its own generator): whatever else
  // the machine does then slows both alike, where back to back one 5 s slice of the same code varied ±25 %.
  // Every other round starts the keyed load first (the one started first has a head start: A/A 1.01–1.05×).
  const sideBySide = { keyed: 0, plain: 0 };
  for (let round = 0; round < rounds; round++) {
    const keyedFirst = round % 2 === 1;
    const [a, b] = await Promise.all(
      keyedFirst
        ? [keyedLoadTest(oursCreate), keyedLoadTest(oursPlain)]
        : [keyedLoadTest(oursPlain), keyedLoadTest(oursCreate)],
    );
    sideBySide.keyed += (keyedFirst ? a : b).total;
    sideBySide.plain += (keyedFirst ? b : a).total;
  }
  const k = median(measured.map((r) => r.keyed.rps));
  const o = median(measured.map((r) => r.plain.rps));
  const bareRps = median(measured.flatMap((r) => [r.bareKeyed.rps, r.barePlain.rps]));
  // Latency with headroom: open-loop at half of each side's measured max rate (median of the rounds).
  interface HalfRound {
    load: string;
    plain: OpenLoopResult;
    keyed: OpenLoopResult;
    bare: OpenLoopResult;
  }
  const halves: HalfRound[] = [];
  const half = (x: number) => Math.max(1, Math.round(x / 2));
  for (let round = 0; round < rounds; round++) {
    const load = loadAverage();
    const keyedHalf = await openLoop({ ...oursCreate, rate: half(k), freshKey: true });
    const plainHalf = await openLoop({ ...oursPlain, rate: half(o) });
    const bareHalf = await openLoop({ ...bareCreate, rate: half(bareRps), freshKey: true });
    halves.push({ load, plain: plainHalf, keyed: keyedHalf, bare: bareHalf });
  }
  // The rows below are of the path users take (keyed creates, the SDK flow): the plain server is done.
  await oursPlainServer.stop();
  const goal = (r: number) => (r >= 1 ? '✓' : '✗');
  const p99Goal = (ps: number[]) =>
    ps.every((p) => p <= 50) ? '✓' : ps.some((p) => p <= 50) ? '✗ (not every round)' : '✗';
  const cpu = (m: Measured) =>
    pg ? `${m.serverUs.toFixed(0)} + ${m.dbUs.toFixed(0)}` : m.serverUs.toFixed(0);
  for (const [n, r] of measured.entries()) {
    const ratio = (a: LoadResult, b: LoadResult) => a.rps / Math.max(1, b.rps);
    rows.push(
      `| ${dbLabel(db)} | ${n + 1} (load ${r.load}) | create (no key) | ${r.plain.rps.toFixed(0)} | ${r.plain.p50} / ${r.plain.p99} | ${r.barePlain.rps.toFixed(0)} | ${r.barePlain.p50} / ${r.barePlain.p99} | **${ratio(r.plain, r.barePlain).toFixed(2)}×** ${goal(ratio(r.plain, r.barePlain))} | ${r.plain.non2xx + r.plain.errors} / ${r.barePlain.non2xx + r.barePlain.errors} | ${cpu(r.plain)} / ${cpu(r.barePlain)} |`,
      `| ${dbLabel(db)} | ${n + 1} (load ${r.load}) | create as the SDKs send it (fresh Idempotency-Key) | ${r.keyed.rps.toFixed(0)} | ${r.keyed.p50} / ${r.keyed.p99} | ${r.bareKeyed.rps.toFixed(0)} | ${r.bareKeyed.p50} / ${r.bareKeyed.p99} | **${ratio(r.keyed, r.bareKeyed).toFixed(2)}×** ${goal(ratio(r.keyed, r.bareKeyed))}; with ÷ without the key ${ratio(r.keyed, r.plain).toFixed(2)}× ${ratio(r.keyed, r.plain) >= 0.9 ? '✓' : '✗'} | ${r.keyed.non2xx + r.keyed.errors} / ${r.bareKeyed.non2xx + r.bareKeyed.errors} | ${cpu(r.keyed)} / ${cpu(r.bareKeyed)} |`,
    );
  }
  // Pooled over the rounds: every side ran the same total time, half of the rounds in each order (ABBA), so the
  // rate of one 5-second slice (±8 % on this machine, same code) and a slot's place after another load cancel out.
  const pooled = (pick: (r: Round) => Measured) => {
    const ms = measured.map(pick);
    return (
      ms.reduce((a, m) => a + m.total, 0) /
      Math.max(
        1,
        ms.reduce((a, m) => a + m.total / m.rps, 0),
      )
    );
  };
  const pk = pooled((r) => r.keyed);
  const pp = pooled((r) => r.plain);
  const pbk = pooled((r) => r.bareKeyed);
  const pbp = pooled((r) => r.barePlain);
  pooledRows.push(
    `| ${dbLabel(db)} | ${rounds} (${measured.length % 2 === 0 ? 'ABBA, balanced' : 'odd: one order once more'}) | ${pp.toFixed(0)} | ${pk.toFixed(0)} | ${pbp.toFixed(0)} / ${pbk.toFixed(0)} | **${(pp / pbp).toFixed(2)}×** ${goal(pp / pbp)} | **${(pk / pbk).toFixed(2)}×** ${goal(pk / pbk)} | **${(pk / pp).toFixed(2)}×** ${pk / pp >= 0.9 ? '✓' : '✗'} | **${(sideBySide.keyed / sideBySide.plain).toFixed(2)}×** ${sideBySide.keyed / sideBySide.plain >= 0.9 ? '✓' : '✗'} |`,
  );
  for (const [n, h] of halves.entries()) {
    const cell = (r: OpenLoopResult) =>
      `${r.p50} / ${r.p90} / ${r.p99} (max ${r.max}) ms, ${r.rps.toFixed(0)} req/s, errors ${r.non2xx + r.errors}, sent late ${((100 * r.lateSends) / Math.max(1, r.total)).toFixed(0)} %`;
    halfRows.push(
      `| ${dbLabel(db)} | ${n + 1} (load ${h.load}) | ${cell(h.plain)} | ${cell(h.keyed)} | ${cell(h.bare)} |`,
    );
  }
  halfGoals.push(
    `${dbLabel(db)}: no key ${p99Goal(halves.map((h) => h.plain.p99))}, as the SDKs send it ${p99Goal(halves.map((h) => h.keyed.p99))} (p99 per round: ${halves.map((h) => h.plain.p99).join(', ')} / ${halves.map((h) => h.keyed.p99).join(', ')} ms; bare ${halves.map((h) => h.bare.p99).join(', ')} ms); open-loop rates ${half(o)} / ${half(k)} / ${half(bareRps)} req/s`,
  );
  if (!createsOnly) {
    // At idle: one request at a time, so no batch ever has company: what group commit costs a lone request.
    const idle = { connections: 1, duration: Math.min(duration, 5) };
    const oIdle = await keyedLoadTest({ ...oursCreate, ...idle });
    const unbatched = await startServer({
      env: {
        ...ourEnv,
        ROBOTRACE_GROUP_COMMIT_MAX_BATCH: '1',
        ...(pg ? { DATABASE_URL: await pg.createDatabase('bench_unbatched') } : {}),
      },
      dataDir: mkdtempSync(join(tmpdir(), 'rt-bench-')),
    });
    dataDirs.push(unbatched.dataDir);
    const unbatchedCreate = target(unbatched.baseUrl, '/api/ingest/episode');
    await keyedLoadTest({ ...unbatchedCreate, duration: 2 });
    const u = await keyedLoadTest(unbatchedCreate);
    const uIdle = await keyedLoadTest({ ...unbatchedCreate, ...idle });
    await unbatched.stop();
    const bIdle = await keyedLoadTest({ ...bareCreate, ...idle });
    const oSat = await keyedLoadTest({ ...oursCreate, connections: saturationConnections });
    const bSat = await keyedLoadTest({ ...bareCreate, connections: saturationConnections });
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
    extraRows.push(
      `| ${dbLabel(db)} | one request at a time (idle), as the SDKs send it: group commit on / off | on: p50 / p99 ${oIdle.p50} / ${oIdle.p99} ms (${oIdle.rps.toFixed(0)} req/s); off (\`ROBOTRACE_GROUP_COMMIT_MAX_BATCH=1\`): ${uIdle.p50} / ${uIdle.p99} ms (${uIdle.rps.toFixed(0)} req/s) | ${bIdle.p50} / ${bIdle.p99} ms (${bIdle.rps.toFixed(0)} req/s) | on ÷ off: ${(oIdle.rps / Math.max(1, uIdle.rps)).toFixed(2)}× | — |`,
      `| ${dbLabel(db)} | create as the SDKs send it, ${connections} connections, group commit off | ${u.rps.toFixed(0)} req/s, p50 / p99 ${u.p50} / ${u.p99} ms | ${bareRps.toFixed(0)} req/s | ${(u.rps / bareRps).toFixed(2)}× | — |`,
      `| ${dbLabel(db)} | create + 1 MB upload + finalize (SDK headers, fresh keys) | ${flow.flowsPerS.toFixed(0)} flows/s, p50 / p99 ${flow.p50} / ${flow.p99} ms, failed: ${failed} | ${bareRps.toFixed(0)} creates/s | **${(flow.flowsPerS / bareRps).toFixed(2)}×** | — |`,
      `| ${dbLabel(db)} | the same flow, bare server for both | ${flow.flowsPerS.toFixed(0)} flows/s | ${bareFlow.flowsPerS.toFixed(0)} flows/s (p50 / p99 ${bareFlow.p50} / ${bareFlow.p99} ms); its own ratio to bare creates: ${(bareFlow.flowsPerS / bareRps).toFixed(2)}× | **${(flow.flowsPerS / bareFlow.flowsPerS).toFixed(2)}×** | — |`,
      `| ${dbLabel(db)} | create as the SDKs send it, past saturation (${saturationConnections} connections) | ${oSat.rps.toFixed(0)} req/s, p99 ${oSat.p99} ms; 429: ${share(oSat, '429')}, 503: ${share(oSat, '503')}, timeouts: ${oSat.timeouts}, errors: ${oSat.errors} | ${bSat.rps.toFixed(0)} req/s, p99 ${bSat.p99} ms, timeouts: ${bSat.timeouts} | ${(oSat.rps / Math.max(1, bSat.rps)).toFixed(2)}× | no timeouts ${oSat.timeouts === 0 ? '✓' : '✗'} |`,
    );
  }
  await ours.stop();
  await bare.stop();
  if (profile) {
    // A fresh server per load, profiled apart from the measured runs (profiling slows it a little).
    for (const load of createsOnly ? (['create'] as const) : (['create', 'flow'] as const)) {
      const dir = join(dataDirs[0] ?? tmpdir(), `cpu-prof-${load}`);
      mkdirSync(dir, { recursive: true });
      const env = pg ? { ...ourEnv, DATABASE_URL: await pg.createDatabase(`bench_prof_${load}`) } : ourEnv;
      const dataDir = mkdtempSync(join(tmpdir(), 'rt-bench-prof-'));
      dataDirs.push(dataDir);
      const server = await startServer({ env, dataDir, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
      if (load === 'create') await keyedLoadTest(target(server.baseUrl, '/api/ingest/episode'));
      else await runFlow(server.baseUrl);
      await server.stop();
      const top = summarizeCpuProfile(dir)
        .slice(0, 6)
        .map(([name, share]) => `${name} ${(share * 100).toFixed(0)} %`)
        .join(', ');
      profileRows.push(
        `| ${dbLabel(db)} | ${load === 'create' ? 'create as the SDKs send it' : 'create + 1 MB upload + finalize'} | ${top} |`,
      );
    }
  }
  await pg?.stop();
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
}

const READING = [
  'Reading: creates and finalizes go through group commit (packages/core/src/ingest-batch.ts): concurrent creates',
  'are written by one statement per batch (a named prepared statement, parsed once: per connection on PostgreSQL,',
  'per instance on PGlite through its wire protocol, packages/core/src/named-statement.ts). A keyed create needs no',
  "row of its own: its episode's id is derived from the project and the key (packages/core/src/ids.ts), so the",
  "episode's primary key is the claim, and the keyed path costs a create two SHA-256s and the body's hash in its row",
  '(only a batch that meets an id in use is written again, with `on conflict do nothing`, its other items replaying).',
  'The bare baseline commits once per request.',
  'A verified API key is cached (PGlite: exactly; PostgreSQL: ROBOTRACE_API_KEY_CACHE_MS, default 1 s), so a create',
  'does no key lookup. Both servers get the same requests from the same generator; the bare server ignores the key',
  "and the SDK headers, so what the keyed rows add to it is the generator's own cost of a fresh id per request",
  '(written into a copy of a request built once, bench/ingest/keyed-load.ts). Ours runs as two servers with a database',
  'each, one fed the keyed creates, one the plain ones, with the same history: a server slows as its tables grow',
  '(PGlite: ~180 → ~225 µs per create once they outgrow its 128 MB of shared buffers, key or not), so one server',
  'compared table sizes as well. bench/ingest/ab-keyed.ts is the quicker A/B of the keyed path (--side-by-side, --aa).',
  'The CPU column is what one create cost the server process and (PostgreSQL) the whole cluster, from /proc: on a',
  "machine this loaded the rates swing with other people's work from round to round, the CPU per create far less.",
  'The idle row sends one request at a time: a lone request never waits for the window (it goes at the next turn',
  "of the event loop), so what it shows is our per-request work against the bare server's, with batching on and off.",
  'The flow row sets one 1 MB upload plus two more requests against a single-row insert (issue 13 asks for the flow',
  'measured against the bare flow and sets no goal for it; an earlier "≥ 0.25× the bare create rate" was our own',
  'and is gone); the "bare server for both" row runs the same flow against a bare server (same DB, same disk, no',
  'checks): its own ratio is the ceiling this machine allows. PostgreSQL is a fresh local cluster with default',
  'durability.',
].join('\n');

const table = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. Command: \`npx tsx bench/ingest/run.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\`, ${new Date().toISOString().slice(0, 10)}. PostgreSQL: ${pgNoSync ? "the test clusters' settings (fsync, synchronous_commit, full_page_writes off)" : 'default durability (fsync on), a fresh cluster'}.`,
  `Load: one generator for every create row, ours and bare alike (bench/ingest/keyed-load.ts: autocannon in a second process, ${connections} connections, ${duration} s per side, loopback), with the same headers: the SDKs', the Bearer key, and for the keyed rows a fresh Idempotency-Key per request. ${rounds} rounds; in each, bare and ours run back to back (every other round in reverse order: bare keyed, ours keyed, ours plain, bare plain, then the other way round), and each round's ratio is of its own pair. Goals (issue 13): plain and keyed creates ≥ 1.0× the bare baseline, 0 errors, p99 ≤ 50 ms at half the max rate; keyed within 10 % of plain.`,
  '',
  '| DB | round (load avg 1 / 5 / 15 min) | operation | ours req/s | ours p50 / p99 ms | bare req/s | bare p50 / p99 ms | ratio | errors (ours / bare) | CPU µs per create, server + PostgreSQL (ours / bare) |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  'Pooled over the rounds (creates ÷ seconds of each side over all its slices; the goals read on these, the rounds above show the spread):',
  '',
  '| DB | rounds | ours, no key (req/s) | ours, as the SDKs send it (req/s) | bare no key / keyed (req/s) | no key ÷ bare (goal ≥ 1.0×) | keyed ÷ bare (goal ≥ 1.0×) | keyed ÷ no key (goal ≥ 0.90×) | keyed ÷ no key, side by side (goal ≥ 0.90×) |',
  '|---|---|---|---|---|---|---|---|---|',
  ...pooledRows,
  '',
  `Latency with headroom: open-loop at half of each side's max rate (the median of the rounds above) for ${duration} s, requests evenly spaced and each one's latency counted from when it was due (bench/ingest/open-loop.ts; autocannon's -R sends each second's quota in a burst, which is not this). Cells: p50 / p90 / p99 (max), achieved rate, errors, and the share of requests the generator itself sent over 5 ms late (it shares the 2 cores too).`,
  '',
  '| DB | round (load avg) | ours, no key | ours, as the SDKs send it | bare |',
  '|---|---|---|---|---|',
  ...halfRows,
  '',
  ...halfGoals.map((g) => `p99 ≤ 50 ms at half the max rate, ${g}.`),
  '',
  ...(extraRows.length > 0
    ? [
        `More cases, same servers, same generator: one request at a time; group commit off; the SDK flow (create with one slot → PUT ${flowUploadBytes / 1024 / 1024} MB to the signed local URL → finalize) from a second process with ${connections} workers, against the bare server's create rate; and ${saturationConnections} connections, past what either serves at once.`,
        '',
        '| DB | case | ours | bare | ratio | goal |',
        '|---|---|---|---|---|---|',
        ...extraRows,
        '',
      ]
    : []),
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
