/**
 * Durable, non-blocking delivery (issue 18). Run: `npx tsx bench/delivery/run.ts [--quick]`; writes the
 * "Delivery" section of docs/BENCHMARKS.md.
 *
 * Against the started server (local disk), with a 100 MB video, in both SDKs (the Python half is
 * bench/delivery/python_delivery.py):
 * 1. `logEpisode` blocking (create + PUT + finalize) vs background (returns once the record is spooled):
 *    per-call latency, same run. Goal: background p99 ≤ 2 ms.
 * 2. Draining: N episodes by a blocking loop vs background delivery (N calls, then flush). Goal ≥ 0.9×.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoboTrace } from '../../packages/sdk-ts/src/client.js';
import { startServer } from '../../test/support/server.js';
import { writeSection } from '../lib.js';

const quick = process.argv.includes('--quick');
const VIDEO_BYTES = 100 * 1024 * 1024;
const DRAIN = quick ? 3 : 8;
const CALLS = quick ? 50 : 200;

const work = mkdtempSync(join(tmpdir(), 'robotrace-bench-delivery-'));
const video = join(work, 'video.mp4');
const bytes = Buffer.alloc(VIDEO_BYTES);
for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32LE(i, i);
writeFileSync(video, bytes);

const pct = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;
const mbps = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB/s`;

const server = await startServer();
try {
  const opts = { apiKey: server.apiKey, baseUrl: server.baseUrl, env: {}, quiet: true };

  // 1 + 2, TypeScript: the blocking loop (its calls timed), then background calls + flush.
  const blocking = new RoboTrace(opts);
  const blockingMs: number[] = [];
  let t0 = performance.now();
  for (let i = 0; i < DRAIN; i++) {
    const t = performance.now();
    await blocking.logEpisode({ name: `bench blocking ${i}`, video });
    blockingMs.push(performance.now() - t);
  }
  const blockingLoopS = (performance.now() - t0) / 1000;

  const bg = new RoboTrace({ ...opts, delivery: 'background', spoolDir: join(work, 'drain') });
  t0 = performance.now();
  for (let i = 0; i < DRAIN; i++) await bg.logEpisode({ name: `bench background ${i}`, video });
  if (!(await bg.flush(600_000))) throw new Error('the background drain did not finish');
  const drainS = (performance.now() - t0) / 1000;
  await bg.close();

  const offline = new RoboTrace({
    ...opts,
    baseUrl: 'http://127.0.0.1:9',
    maxRetries: 0,
    flushTimeoutMs: 0,
    delivery: 'background',
    spoolDir: join(work, 'latency'),
    logger: { warn: () => undefined },
  });
  const callMs: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await offline.logEpisode({ name: `bench latency ${i}`, video });
    callMs.push(performance.now() - t);
  }
  await offline.close();

  // The Python SDK, same server, same file.
  const py = spawnSync(
    '.cache/venv-sdk/bin/python',
    [
      'bench/delivery/python_delivery.py',
      '--base-url',
      server.baseUrl,
      '--api-key',
      server.apiKey,
      '--video',
      video,
      '--work',
      join(work, 'python'),
      '--calls',
      String(CALLS),
      '--drain',
      String(DRAIN),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (py.status !== 0) throw new Error(`python_delivery.py exited ${py.status}`);
  const p = JSON.parse(py.stdout) as {
    blocking_call_ms: { p50: number; p99: number };
    background_call_ms: { p50: number; p99: number; n: number };
    blocking_loop_bytes_per_s: number;
    background_drain_bytes_per_s: number;
  };

  const tsLoop = (DRAIN * VIDEO_BYTES) / blockingLoopS;
  const tsDrain = (DRAIN * VIDEO_BYTES) / drainS;
  const rows = [
    ['TypeScript', pct(blockingMs, 0.5), pct(callMs, 0.5), pct(callMs, 0.99), tsLoop, tsDrain],
    [
      'Python',
      p.blocking_call_ms.p50,
      p.background_call_ms.p50,
      p.background_call_ms.p99,
      p.blocking_loop_bytes_per_s,
      p.background_drain_bytes_per_s,
    ],
  ] as const;
  const table = [
    '| SDK | blocking call p50 | background call p50 | background call p99 (goal ≤ 2 ms) | blocking loop | background drain | drain / loop (goal ≥ 0.9×) |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      ([sdk, b50, c50, c99, loop, drain]) =>
        `| ${sdk} | ${ms(b50)} | ${ms(c50)} | ${ms(c99)} | ${mbps(loop)} | ${mbps(drain)} | ${(drain / loop).toFixed(2)}× |`,
    ),
  ].join('\n');
  const section = `Run: \`npx tsx bench/delivery/run.ts\` (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}; ${quick ? 'quick' : 'full'} run).
The started server on local disk; a 100 MB video. **Call**: \`logEpisode\` / \`log_episode\` timed per call —
blocking is create + PUT + finalize, background returns once the record is in the spool (files hard-linked,
spec/SPOOL.md); ${CALLS} background calls, into a spool whose server does not answer so nothing else moves
gigabytes meanwhile. **Drain**: ${DRAIN} episodes, one blocking loop vs background (the ${DRAIN} calls, then
\`flush()\`), as bytes per second of the whole run.

${table}`;
  process.stdout.write(`${table}\n`);
  writeSection('Delivery', section);
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
