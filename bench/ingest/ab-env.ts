// A / B of our server's configuration under creates as the SDKs send them: one server per variant (its own
// database on one PostgreSQL cluster, or its own PGlite), the same generator and headers as bench/ingest/run.ts,
// variants measured back to back in each round, with the rate, the latency and the CPU per create of the server
// and of the cluster. E.g. what the API-key cache saves:
//   npx tsx bench/ingest/ab-env.ts --db postgres --rounds 3 '{}' '{"ROBOTRACE_API_KEY_CACHE_MS":"0"}'
import { readFileSync } from 'node:fs';
import { startServer, TEST_API_KEY } from '../../test/support/server.js';
import { keyedLoadTest } from '../lib.js';
import { postgresCpu, processCpu } from './cpu-time.js';
import { startDurablePostgres } from './durable-postgres.js';
import { INGEST_BODY, SDK_HEADERS } from './load-shape.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args.splice(i, 2)[1];
};
const db = option('--db') ?? 'postgres';
const rounds = Number(option('--rounds') ?? 3);
const seconds = Number(option('--seconds') ?? 5);
const variants = (args.length > 0 ? args : ['{}']).map((a) => JSON.parse(a) as Record<string, string>);

const pg = db === 'postgres' ? await startDurablePostgres() : undefined;
const dbCpu = pg ? postgresCpu(pg.port) : () => 0;
const servers = [];
for (const [i, env] of variants.entries())
  servers.push(
    await startServer({
      env: {
        ROBOTRACE_LOG_LEVEL: 'warn',
        ...(pg ? { DATABASE_URL: await pg.createDatabase(`ab_${i}`), ROBOTRACE_SECRET: 'x'.repeat(64) } : {}),
        ...env,
      },
    }),
  );

async function load(url: string, duration: number) {
  const o = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}`, ...SDK_HEADERS },
    body: INGEST_BODY,
    connections: 20,
    duration,
  };
  return keyedLoadTest(o);
}

for (const s of servers) await load(`${s.baseUrl}/api/ingest/episode`, 2);
process.stdout.write(
  '| round (load avg) | variant | req/s | p50 / p99 ms | non-2xx | CPU µs per create: server + database |\n|---|---|---|---|---|---|\n',
);
for (let round = 1; round <= rounds; round++) {
  const loadAvg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  for (const [i, s] of servers.entries()) {
    const serverCpu = processCpu(s.pid() ?? 0);
    const [s0, d0] = [serverCpu(), dbCpu()];
    const r = await load(`${s.baseUrl}/api/ingest/episode`, seconds);
    const per = (ms: number) => ((ms * 1000) / Math.max(1, r.total)).toFixed(0);
    process.stdout.write(
      `| ${round} (${loadAvg}) | \`${JSON.stringify(variants[i])}\` | ${r.rps.toFixed(0)} | ${r.p50} / ${r.p99} | ${r.non2xx} | ${per(serverCpu() - s0)} + ${per(dbCpu() - d0)} |\n`,
    );
  }
}
for (const s of servers) await s.stop();
await pg?.stop();
