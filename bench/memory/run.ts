// bench/memory: resident memory (RSS) of the embedded server (PGlite + local disk)
//   1. with many episodes: seeded in bulk (`insert … select generate_series`, server stopped), then the server is
//      started and read through the API; baseline: the same server and reads on an empty data dir;
//   2. while one large artifact streams through a signed local upload URL; baseline: a bare node:http server
//      streaming the same body to a file.
// RSS is read from /proc/<pid>/status of the server process (the load comes from this process).
// Usage: npx tsx bench/memory/run.ts [--quick] [--rows N] [--upload-mib N]
//   full: 1,000,000 episodes and a 1 GiB upload; --quick: 100,000 episodes and 256 MiB.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateEpisodeResponse, ListEpisodesResponse } from '@robotrace/contracts';
import { createDb, type Database } from '@robotrace/db';
import { sql } from 'drizzle-orm';
import { startServer, TEST_API_KEY, type TestServer } from '../../test/support/server.js';
import { writeSection } from '../lib.js';

const argv = process.argv.slice(2);
const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes('--quick');
const rows = Number(option('--rows') ?? (quick ? 100_000 : 1_000_000));
const uploadMiB = Number(option('--upload-mib') ?? (quick ? 256 : 1024));
const MiB = 1024 * 1024;
const GOAL_RSS_MIB = 1536;
const GOAL_UPLOAD_GROWTH_MIB = 64;

const log = (msg: string) => process.stderr.write(`[bench/memory] ${msg}\n`);

function rssMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

const pidOf = (server: TestServer): number => {
  const pid = server.pid();
  if (pid === undefined) throw new Error('server has no pid');
  return pid;
};

/** Bulk seed straight into the data dir (server stopped), 100k rows per statement. */
async function seed(db: Database, count: number): Promise<void> {
  const rowsOf = await db.execute(sql`select id from project where name = 'demo'`);
  const projectId = (rowsOf as unknown as { rows: { id: string }[] }).rows[0]?.id;
  if (!projectId) throw new Error('project demo not found');
  for (let from = 1; from <= count; from += 100_000) {
    const to = Math.min(count, from + 99_999);
    await db.execute(sql`
      insert into episode (id, project_id, name, source, status, robot, policy_version, seed, fps, duration_s,
                           bytes_total, metadata, trace_id, span_id, created_at, finalized_at)
      select gen_random_uuid(), ${projectId}::uuid, 'episode ' || g, (array['real','sim','replay'])[1 + g % 3],
             (array['ready','ready','ready','failed'])[1 + g % 4], 'robot-' || (g % 50), 'pi-0.' || (g % 20),
             g, 30, 12.5, 1048576,
             jsonb_build_object('task', 'pick', 'success', g % 4 <> 0, 'episode', g),
             lpad(to_hex(g), 32, '0'), lpad(to_hex(g), 16, '0'),
             now() - make_interval(secs => g), now() - make_interval(secs => g)
      from generate_series(${from}::int, ${to}::int) g`);
    log(`seeded ${to} / ${count}`);
  }
}

/** A read mix over the API: newest pages (keyset), filters, trace lookups and details. */
async function readMix(baseUrl: string): Promise<void> {
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return (await r.json()) as T;
  };
  let cursor: string | null = null;
  const ids: string[] = [];
  for (let page = 0; page < 20; page++) {
    const list: ListEpisodesResponse = await get(
      `/api/episodes?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
    );
    ids.push(...list.data.map((e) => e.id));
    cursor = list.next_cursor;
    if (!cursor) break;
  }
  for (const q of ['status=failed', 'source=sim', 'policy_version=pi-0.7', 'robot=robot-3', 'q=episode%2042'])
    await get(`/api/episodes?limit=200&${q}`);
  for (let g = 1; g <= 50; g++) await get(`/api/episodes?trace_id=${g.toString(16).padStart(32, '0')}`);
  for (const id of ids.slice(0, 100)) await get(`/api/episodes/${id}`);
}

/** Streams `bytes` of a repeated 1 MiB block as one PUT, sampling the server's RSS meanwhile. */
async function upload(url: string, bytes: number, contentType: string, pid: number) {
  const block = Buffer.alloc(MiB, 0x5a);
  const before = rssMiB(pid).rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid).rss);
  }, 50);
  const started = Date.now();
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(url, {
      method: 'PUT',
      headers: { 'content-type': contentType, 'content-length': bytes },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        const chunk = bytes - sent >= MiB ? block : block.subarray(0, bytes - sent);
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
  clearInterval(sampler);
  peak = Math.max(peak, rssMiB(pid).rss);
  if (status >= 400) throw new Error(`upload answered ${status}`);
  return { before, peak, growth: peak - before, mibPerS: bytes / MiB / ((Date.now() - started) / 1000) };
}

async function startBareUpload(
  dir: string,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/memory/bare-upload.ts'], {
    env: { ...process.env, BARE_UPLOAD_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      const m = /listening on (http:\/\/\S+)/.exec(b.toString());
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`bare upload server exited ${code}`)));
  });
  // tsx runs the script in the same process, so this pid is the server's.
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

execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { stdio: 'inherit' });
const env = { ROBOTRACE_LOG_LEVEL: 'warn', ROBOTRACE_MAX_UPLOAD_BYTES: String(8 * 1024 * MiB) };
const dirs = [
  mkdtempSync(join(tmpdir(), 'rt-bench-mem-empty-')),
  mkdtempSync(join(tmpdir(), 'rt-bench-mem-')),
];
const [emptyDir = '', seededDir = ''] = dirs;
try {
  // Baseline: same server, same reads, no episodes. Both sides are measured on a second start: the first start
  // of an embedded data dir creates the PGlite cluster, which leaves a much larger RSS behind (see firstStart).
  const first = await startServer({ env, dataDir: emptyDir });
  const firstStart = rssMiB(pidOf(first));
  await first.stop();
  const empty = await startServer({ env, dataDir: emptyDir });
  await readMix(empty.baseUrl);
  const emptyRss = rssMiB(pidOf(empty));
  await empty.stop();

  // Seeded: bootstrap once, seed with the server stopped (it owns the embedded DB while up), start again.
  await (await startServer({ env, dataDir: seededDir })).stop();
  const t0 = Date.now();
  const dbh = await createDb({ kind: 'pglite', dataDir: seededDir });
  await seed(dbh.db, rows);
  await dbh.close();
  const seedS = (Date.now() - t0) / 1000;
  const server = await startServer({ env, dataDir: seededDir });
  const pid = pidOf(server);
  const atStart = rssMiB(pid);
  await readMix(server.baseUrl);
  const afterReads = rssMiB(pid);

  log(`uploading ${uploadMiB} MiB through a signed local URL`);
  const created = (await (
    await fetch(`${server.baseUrl}/api/ingest/episode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'real', request_uploads: ['video'] }),
    })
  ).json()) as CreateEpisodeResponse;
  const ours = await upload(created.upload_urls[0]?.url ?? '', uploadMiB * MiB, 'video/mp4', pid);
  await server.stop();

  const bareDir = mkdtempSync(join(tmpdir(), 'rt-bench-mem-bare-'));
  dirs.push(bareDir);
  const bare = await startBareUpload(bareDir);
  const bareUp = await upload(`${bare.url}/upload`, uploadMiB * MiB, 'video/mp4', bare.pid);
  await bare.stop();

  const f = (n: number) => n.toFixed(0);
  const verdict = (value: number, goal: number, scaled: boolean) =>
    value <= goal
      ? `≤ ${goal} MiB ✓${scaled ? ' (at this size)' : ''}`
      : `≤ ${goal} MiB ✗ (missed by ${f(value - goal)} MiB)`;
  const table = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. Command: \`npx tsx bench/memory/run.ts${quick ? ' --quick' : ''}\`, ${new Date().toISOString().slice(0, 10)}.`,
    `Embedded server (PGlite + local disk). ${rows.toLocaleString('en')} episodes seeded in ${f(seedS)} s with the server stopped; reads: 20 keyset pages of 200, 5 filters, 50 trace lookups, 100 details. Upload: one ${uploadMiB} MiB PUT through the signed local URL, RSS sampled every 50 ms. Baselines in the same run: the same server and reads on an empty data dir; a bare node:http server piping the same PUT to a file.`,
    '',
    '| measure | ours | baseline | ratio | goal |',
    '|---|---|---|---|---|',
    `| RSS after reads, ${rows.toLocaleString('en')} episodes | ${f(afterReads.rss)} MiB | ${f(emptyRss.rss)} MiB (0 episodes) | ${(afterReads.rss / emptyRss.rss).toFixed(2)}× | ${verdict(afterReads.rss, GOAL_RSS_MIB, rows < 1_000_000)} |`,
    `| peak RSS (VmHWM), ${rows.toLocaleString('en')} episodes | ${f(afterReads.hwm)} MiB | ${f(emptyRss.hwm)} MiB | ${(afterReads.hwm / emptyRss.hwm).toFixed(2)}× | ${verdict(afterReads.hwm, GOAL_RSS_MIB, rows < 1_000_000)} |`,
    `| RSS right after start | ${f(atStart.rss)} MiB | — | — | — |`,
    `| RSS after the very first start of a data dir (PGlite cluster created) | ${f(firstStart.rss)} MiB | — | — | — |`,
    `| RSS growth during a ${uploadMiB} MiB upload | ${f(ours.growth)} MiB (${f(ours.before)} → ${f(ours.peak)}), ${f(ours.mibPerS)} MiB/s | ${f(bareUp.growth)} MiB, ${f(bareUp.mibPerS)} MiB/s | — | ${verdict(ours.growth, GOAL_UPLOAD_GROWTH_MIB, uploadMiB < 1024)} |`,
  ];
  if (quick)
    table.push(
      '',
      'Quick run: fewer episodes and a smaller upload than the goals name (1M episodes, 1 GiB); `npx tsx bench/memory/run.ts` measures those.',
    );
  const text = table.join('\n');
  process.stdout.write(`${text}\n`);
  writeSection('Memory', text);
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
