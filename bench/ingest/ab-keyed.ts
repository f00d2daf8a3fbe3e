// Creates with and without an Idempotency-Key on one server, back to back in each round: the rate, the latency
// and the CPU per create of the server and (PostgreSQL) the cluster, and the keyed ÷ plain ratio of the round.
// Issue 13 asks for keyed within 10 % of plain; run.ts measures the same against the bare baseline, this is the
// quicker loop for changes to the keyed path (one server, no bare side, no open-loop or flow rows).
// Usage: npx tsx bench/ingest/ab-keyed.ts [--db pglite|postgres] [--rounds 3] [--seconds 5]
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

const pg = db === 'postgres' ? await startDurablePostgres() : undefined;
const dbCpu = pg ? postgresCpu(pg.port) : () => 0;
const server = await startServer({
  env: {
    ROBOTRACE_LOG_LEVEL: 'warn',
    ...(pg ? { DATABASE_URL: await pg.createDatabase('ab_keyed'), ROBOTRACE_SECRET: 'x'.repeat(64) } : {}),
  },
});

async function load(freshKey: boolean, duration: number) {
  const o = {
    url: `${server.baseUrl}/api/ingest/episode`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}`, ...SDK_HEADERS },
    body: INGEST_BODY,
    connections: 20,
    duration,
    freshKey,
  };
  return keyedLoadTest(o);
}

// Warm-up: the statements prepared, the caches filled, for both forms.
await load(false, 2);
await load(true, 2);
process.stdout.write(
  `| DB | round (load avg) | Idempotency-Key | req/s | p50 / p99 ms | non-2xx | CPU µs per create: server + database | keyed ÷ plain |\n|---|---|---|---|---|---|---|---|\n`,
);
for (let round = 1; round <= rounds; round++) {
  const loadAvg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const rates: number[] = [];
  for (const keyed of [false, true]) {
    const serverCpu = processCpu(server.pid() ?? 0);
    const [s0, d0] = [serverCpu(), dbCpu()];
    const r = await load(keyed, seconds);
    const per = (ms: number) => ((ms * 1000) / Math.max(1, r.total)).toFixed(0);
    rates.push(r.rps);
    const ratio = keyed ? `${(r.rps / (rates[0] ?? 1)).toFixed(2)}×` : '';
    process.stdout.write(
      `| ${db} | ${round} (${loadAvg}) | ${keyed ? 'fresh' : 'none'} | ${r.rps.toFixed(0)} | ${r.p50} / ${r.p99} | ${r.non2xx} | ${per(serverCpu() - s0)} + ${per(dbCpu() - d0)} | ${ratio} |\n`,
    );
  }
}
await server.stop();
await pg?.stop();
