// Creates with and without an Idempotency-Key, back to back in each round, each on a server (and database) of its
// own with the same history (a server slows as its tables grow, so one server would compare table sizes too): the
// rate, the latency and the CPU per create of the server and (PostgreSQL) the cluster, and the round's ratio.
// Issue 13 asks for keyed within 10 % of plain; run.ts measures the same against the bare baseline, this is the
// quicker loop for changes to the keyed path (one server, no bare side, no open-loop or flow rows).
// Usage: npx tsx bench/ingest/ab-keyed.ts [--db pglite|postgres] [--rounds 3] [--seconds 5] [--side-by-side] [--aa]
//   --side-by-side: the two loads run at the same time (each server and its generator sharing the machine with
//   the other pair), so whatever else the machine does slows both alike; back to back, one 5 s slice of the same
//   code on this machine varied ±25 %. --aa: the "keyed" server gets creates without a key too (calibration).
import { readFileSync } from 'node:fs';
import { startServer, TEST_API_KEY } from '../../test/support/server.js';
import { keyedLoadTest } from '../lib.js';
import { postgresCpu, processCpu } from './cpu-time.js';
import { startDurablePostgres } from './durable-postgres.js';
import { INGEST_BODY, SDK_HEADERS } from './load-shape.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const db = arg('--db') ?? 'postgres';
const rounds = Number(arg('--rounds') ?? 3);
const seconds = Number(arg('--seconds') ?? 5);
const sideBySide = process.argv.includes('--side-by-side');
const aa = process.argv.includes('--aa');

const pg = db === 'postgres' ? await startDurablePostgres() : undefined;
const dbCpu = pg ? postgresCpu(pg.port) : () => 0;
const serverFor = async (name: string) =>
  startServer({
    env: {
      ROBOTRACE_LOG_LEVEL: 'warn',
      ...(pg ? { DATABASE_URL: await pg.createDatabase(name), ROBOTRACE_SECRET: 'x'.repeat(64) } : {}),
    },
  });
const servers = { plain: await serverFor('ab_plain'), keyed: await serverFor('ab_keyed') };

async function load(freshKey: boolean, duration: number) {
  const server = freshKey ? servers.keyed : servers.plain;
  const o = {
    url: `${server.baseUrl}/api/ingest/episode`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}`, ...SDK_HEADERS },
    body: INGEST_BODY,
    connections: 20,
    duration,
    freshKey: freshKey && !aa,
  };
  return keyedLoadTest(o);
}

// Warm-up: the statements prepared, the caches filled, for both forms.
await load(false, 2);
await load(true, 2);
process.stdout.write(
  `| DB | round (load avg) | Idempotency-Key | req/s | p50 / p99 ms | non-2xx | CPU µs per create: server + database | keyed ÷ plain |\n|---|---|---|---|---|---|---|---|\n`,
);
const totals = { plain: 0, keyed: 0 };
for (let round = 1; round <= rounds; round++) {
  const loadAvg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const measure = async (keyed: boolean) => {
    const serverCpu = processCpu((keyed ? servers.keyed : servers.plain).pid() ?? 0);
    const [s0, d0] = [serverCpu(), dbCpu()];
    const r = await load(keyed, seconds);
    const per = (ms: number) => ((ms * 1000) / Math.max(1, r.total)).toFixed(0);
    return { keyed, r, cpu: `${per(serverCpu() - s0)} + ${per(dbCpu() - d0)}` };
  };
  // Side by side, the first generator started had a head start (A/A: the second server read 1.01–1.05× the
  // first): every other round starts the keyed one first.
  const pair = sideBySide
    ? round % 2
      ? await Promise.all([measure(false), measure(true)])
      : (await Promise.all([measure(true), measure(false)])).reverse()
    : [await measure(false), await measure(true)];
  const plainRps = pair[0]?.r.rps ?? 1;
  for (const { keyed, r, cpu } of pair) {
    totals[keyed ? 'keyed' : 'plain'] += r.total;
    const ratio = keyed ? `${(r.rps / plainRps).toFixed(2)}×` : '';
    process.stdout.write(
      `| ${db} | ${round} (${loadAvg}) | ${keyed ? (aa ? 'none (A/A)' : 'fresh') : 'none'} | ${r.rps.toFixed(0)} | ${r.p50} / ${r.p99} | ${r.non2xx} | ${cpu} | ${ratio} |\n`,
    );
  }
}
process.stdout.write(
  `\nPooled over ${rounds} rounds: keyed ÷ plain ${(totals.keyed / totals.plain).toFixed(3)}×\n`,
);
await servers.plain.stop();
await servers.keyed.stop();
await pg?.stop();
