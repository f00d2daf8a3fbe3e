// CPU profile of our server under creates as the SDKs send them (fresh Idempotency-Key, SDK headers), the
// load issue 13's PostgreSQL goal misses: `node --cpu-prof` of a fresh server, the load from a second process
// (keyed-load.ts), then where the time went, by category (bench/profile.ts) and by function (self time).
// Usage: npx tsx bench/ingest/profile-keyed.ts [--db pglite|postgres] [--seconds 10] [--env K=V ...] [--plain]
//   --plain: the same load without the Idempotency-Key, to set the two profiles side by side.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, TEST_API_KEY } from '../../test/support/server.js';
import { keyedLoadTest } from '../lib.js';
import { summarizeCpuProfile } from '../profile.js';
import { startDurablePostgres } from './durable-postgres.js';
import { INGEST_BODY, SDK_HEADERS } from './load-shape.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const db = arg('--db') ?? 'postgres';
const seconds = Number(arg('--seconds') ?? 10);
const plain = process.argv.includes('--plain');
const extraEnv = Object.fromEntries(
  process.argv
    .flatMap((a, i) => (process.argv[i - 1] === '--env' ? [a.split('=')] : []))
    .map(([k, ...v]) => [k, v.join('=')]),
);

const pg = db === 'postgres' ? await startDurablePostgres() : undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'rt-prof-'));
const profDir = join(dataDir, 'cpu-prof');
mkdirSync(profDir);
const env: Record<string, string> = { ROBOTRACE_LOG_LEVEL: 'warn', ...extraEnv };
if (pg) {
  env.DATABASE_URL = await pg.createDatabase('bench_prof');
  env.ROBOTRACE_SECRET = 'x'.repeat(64);
}
const launchedAt = performance.now();
const server = await startServer({
  env,
  dataDir: join(dataDir, 'server'),
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
});
const load = {
  url: `${server.baseUrl}/api/ingest/episode`,
  method: 'POST' as const,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}`, ...SDK_HEADERS },
  body: INGEST_BODY,
  connections: 20,
  duration: seconds,
  freshKey: !plain,
};
const loadFrom = performance.now() - launchedAt;
const r = await keyedLoadTest(load);
const loadTo = performance.now() - launchedAt;
await server.stop();
await pg?.stop();

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}
const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) ?? '';
const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
// Only the samples taken while the load ran (the profile starts with the process: startup is not the point).
const { nodes } = profile;
for (const n of nodes) n.hitCount = 0;
const byNodeId = new Map(nodes.map((n) => [n.id, n]));
let atMs = 0;
profile.samples.forEach((id, i) => {
  atMs += (profile.timeDeltas[i] ?? 0) / 1000;
  const node = byNodeId.get(id);
  if (node && atMs >= loadFrom && atMs <= loadTo) node.hitCount++;
});
const windowDir = join(dataDir, 'cpu-prof-window');
mkdirSync(windowDir);
writeFileSync(join(windowDir, 'load.cpuprofile'), JSON.stringify(profile));
const total = nodes.reduce((s, n) => s + n.hitCount, 0) || 1;
const self = new Map<string, number>();
for (const n of nodes) {
  const where = n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/work\/main\//, '');
  const name = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
  self.set(name, (self.get(name) ?? 0) + n.hitCount);
}
process.stdout.write(
  `${db}: ${r.rps.toFixed(0)} req/s, p50 / p99 ${r.p50} / ${r.p99} ms, non-2xx ${r.non2xx}\n`,
);
for (const [name, share] of summarizeCpuProfile(windowDir))
  process.stdout.write(`${(share * 100).toFixed(1)} %  ${name}\n`);
process.stdout.write('\nTop self time:\n');
for (const [name, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40))
  process.stdout.write(`${((100 * hits) / total).toFixed(1)} %  ${name}\n`);
// Inclusive time of our own functions (the bundle, apps/web/dist): which step of a create costs what.
const parent = new Map<number, number>();
for (const n of nodes as (Node & { children?: number[] })[])
  for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map(nodes.map((n) => [n.id, n]));
const inclusive = new Map<string, number>();
for (const n of nodes) {
  if (n.hitCount === 0) continue;
  const seen = new Set<string>();
  for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
    const f = byId.get(id)?.callFrame;
    if (!f?.url.includes('apps/web/dist')) continue;
    const name = `${f.functionName || '(anonymous)'}:${f.lineNumber + 1}`;
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + n.hitCount);
  }
}
process.stdout.write('\nTop inclusive time of our functions:\n');
for (const [name, hits] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 40))
  process.stdout.write(`${((100 * hits) / total).toFixed(1)} %  ${name}\n`);
rmSync(dataDir, { recursive: true, force: true });
