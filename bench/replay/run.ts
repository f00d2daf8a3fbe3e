// bench/replay: the issue-14 speed goals, each beside a baseline measured in the same run.
//   indexing      sensors.npz (stored) and actions.npz (deflated) of a 10-minute, 30-column, 100 Hz episode:
//                 time and peak RSS growth of indexArtifactTracks vs reading the same file once (fresh process each)
//   windows       GET …/tracks/{name}?points=2000 over random windows: p50/p99 vs the track list (DB only)
//   first lane    Chromium: HTML response end → tracks listed and the first lane drawn (vs a page with no tracks)
//   scrubbing     Chromium: playhead + hover moved every frame, frames/s from requestAnimationFrame (vs idle)
//   compare       Chromium + the started server: /portal/compare with 4 such episodes, every lane drawn (vs one page)
// Usage: npx tsx bench/replay/run.ts [--quick] [--minutes N] [--write] [--compare-only] [--no-compare]
//   --compare-only: just the compare measurement (needs `node scripts/build.mjs`); --no-compare: skip it.
//   --quick: 3 runs of each indexing measurement and 100 window requests (full: 5 and 400, and an RSS check on a
//   100-minute episode).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { episode, project } from '@robotrace/db';
import { chromium } from 'playwright-core';
import { storageKey } from '../../packages/core/src/episodes.js';
import {
  ColumnCache,
  indexArtifactTracks,
  localArtifactOpener,
  openFileSource,
  WindowCache,
} from '../../packages/core/src/index.js';
import { startPlayerHarness } from '../../packages/core/test/integration/tracks-player-harness.js';
import { tempCore } from '../../packages/core/test/support/temp-core.js';
import { writeSection } from '../lib.js';
import { compareRows } from './compare.js';

const argv = process.argv.slice(2);
const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes('--quick');
const minutes = Number(option('--minutes') ?? 10);
const runs = quick ? 3 : 5;
const windowRequests = quick ? 100 : 400;
const log = (msg: string) => process.stderr.write(`[bench/replay] ${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
const loadAtStart = load();
const dir = mkdtempSync(join(tmpdir(), 'rt-bench-replay-'));
log(`writing a ${minutes}-minute episode with numpy`);
execFileSync('.cache/venv-sdk/bin/python', ['bench/replay/make_episode.py', dir, String(minutes)], {
  stdio: 'inherit',
});
const files = { sensors: join(dir, 'sensors.npz'), actions: join(dir, 'actions.npz') };
if (argv.includes('--compare-only')) {
  const only = await compareRows(dir, minutes, runs);
  process.stdout.write(`${only.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

function worker(
  mode: 'index' | 'scan' | 'read',
  file: string,
): { ms: number; cpuMs: number; growthMiB: number } {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', 'bench/replay/index-worker.ts', mode, file],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
}

const rows: string[][] = [];
for (const [kind, file] of Object.entries(files)) {
  const m = {
    read: [] as number[],
    scan: [] as number[],
    index: [] as number[],
    growth: [] as number[],
    readGrowth: [] as number[],
    readCpu: [] as number[],
    scanCpu: [] as number[],
    indexCpu: [] as number[],
  };
  for (let i = 0; i < runs; i++) {
    const r = worker('read', file);
    m.read.push(r.ms);
    m.readCpu.push(r.cpuMs);
    m.readGrowth.push(r.growthMiB);
    const sc = worker('scan', file);
    m.scan.push(sc.ms);
    m.scanCpu.push(sc.cpuMs);
    const ix = worker('index', file);
    m.index.push(ix.ms);
    m.indexCpu.push(ix.cpuMs);
    m.growth.push(ix.growthMiB);
  }
  const [r, sc, ix] = [median(m.read), median(m.scan), median(m.index)];
  const [rc, scc, ixc] = [median(m.readCpu), median(m.scanCpu), median(m.indexCpu)];
  const cpu = (ms: number) => `CPU ${ms.toFixed(1)} ms`;
  const mib = statSync(file).size / 2 ** 20;
  log(`${kind}: read ${r.toFixed(1)} ms, scan ${sc.toFixed(1)} ms, index ${ix.toFixed(1)} ms`);
  const what = `${kind}.npz (${mib.toFixed(1)} MiB, ${kind === 'sensors' ? 'stored' : 'deflated'})`;
  rows.push([
    `index ${what}: file part (indexTrackFile)`,
    `${sc.toFixed(1)} ms (${cpu(scc)})`,
    `read once: ${r.toFixed(1)} ms (${cpu(rc)})`,
    `${(sc / r).toFixed(2)}× (CPU ${(scc / rc).toFixed(2)}×)`,
    '≤ 2×',
  ]);
  rows.push([
    `index ${what}: + DB write (indexArtifactTracks)`,
    `${ix.toFixed(1)} ms (${cpu(ixc)})`,
    `read once: ${r.toFixed(1)} ms (${cpu(rc)})`,
    `${(ix / r).toFixed(2)}× (CPU ${(ixc / rc).toFixed(2)}×)`,
    '≤ 2×',
  ]);
  rows.push([
    `RSS growth while indexing ${kind}.npz`,
    `${Math.max(...m.growth).toFixed(1)} MiB`,
    `read once: ${Math.max(...m.readGrowth).toFixed(1)} MiB`,
    '',
    '≤ 64 MiB',
  ]);
}

if (!quick) {
  // Memory does not grow with the file: a 10× longer episode (100 minutes, 18M samples) indexes in the same RSS.
  const big = join(dir, 'big');
  log('writing a 100-minute episode for the RSS check');
  execFileSync('.cache/venv-sdk/bin/python', ['bench/replay/make_episode.py', big, '100'], {
    stdio: 'inherit',
  });
  for (const kind of ['sensors', 'actions']) {
    const file = join(big, `${kind}.npz`);
    const read = worker('read', file);
    const ix = worker('index', file);
    const mib = statSync(file).size / 2 ** 20;
    rows.push([
      `RSS growth while indexing a 100-minute ${kind}.npz (${mib.toFixed(0)} MiB)`,
      `${ix.growthMiB.toFixed(1)} MiB (${ix.ms.toFixed(0)} ms)`,
      `read once: ${read.growthMiB.toFixed(1)} MiB (${read.ms.toFixed(0)} ms)`,
      `${(ix.ms / read.ms).toFixed(2)}×`,
      '≤ 64 MiB',
    ]);
  }
}

log('windows over HTTP (PGlite, the core functions behind a node:http server)');
const core = await tempCore();
const cache = new ColumnCache(join(dir, 'cache'), 4 * 2 ** 30);
await cache.init();
const deps = {
  ...core.deps,
  // The window cache as the server has it (apps/web/src/routes/tracks.ts: 32 MiB).
  tracks: {
    open: localArtifactOpener(core.store),
    cache,
    maxIndexBytes: 8 * 2 ** 30,
    windows: new WindowCache(32 * 2 ** 20),
  },
};
const scope = { projectId: crypto.randomUUID() };
const withTracks = crypto.randomUUID();
const noTracks = crypto.randomUUID();
await core.deps.db.insert(project).values({ id: scope.projectId, name: 'bench' });
await core.deps.db.insert(episode).values([
  {
    id: withTracks,
    projectId: scope.projectId,
    source: 'sim',
    status: 'ready',
    fps: 100,
    durationS: minutes * 60,
  },
  {
    id: noTracks,
    projectId: scope.projectId,
    source: 'sim',
    status: 'ready',
    fps: 100,
    durationS: minutes * 60,
  },
]);
for (const [kind, file] of Object.entries(files) as ['sensors' | 'actions', string][]) {
  const path = core.store.pathOf(storageKey(scope, withTracks, kind));
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(file, path);
  const source = await openFileSource(path);
  await indexArtifactTracks(deps, scope, withTracks, kind, source).finally(() => source.close());
}
const harness = await startPlayerHarness(deps, scope, [
  { episodeId: withTracks, fps: 100, durationS: minutes * 60, failureTimeS: minutes * 30 },
  { episodeId: noTracks, fps: 100, durationS: minutes * 60 },
]);
const spanNs = minutes * 60e9;
log(
  `tracks: ${(await (await fetch(harness.url(`/api/episodes/${withTracks}/tracks`))).text()).slice(0, 600)}`,
);
let windowBytes = 0;
let windowCount = 0;
// Where a slow request's time went: GC pauses of this process inside it, and the process's CPU over it (all its
// threads: a request with much less CPU than wall time waited for the machine, not for its own work).
const gcPauses: { start: number; end: number }[] = [];
const gcObserver = new PerformanceObserver((entries) => {
  for (const e of entries.getEntries()) gcPauses.push({ start: e.startTime, end: e.startTime + e.duration });
});
gcObserver.observe({ entryTypes: ['gc'] });
interface Timed {
  ms: number;
  start: number;
  cpuMs: number;
}
const windowTimings: Timed[] = [];
async function timed(path: string): Promise<number> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const res = await fetch(harness.url(path));
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  const bytes = (await res.arrayBuffer()).byteLength;
  const ms = performance.now() - t0;
  if (path.includes('/tracks/')) {
    windowBytes += bytes;
    windowCount++;
    const used = process.cpuUsage(cpu);
    windowTimings.push({ ms, start: t0, cpuMs: (used.user + used.system) / 1000 });
  }
  return ms;
}
const windowPath = (name: string, i: number) => {
  const width = spanNs * (i % 4 === 0 ? 1 : Math.random() * 0.5 + 0.01); // every 4th: the whole episode
  const from = Math.floor(Math.random() * (spanNs - width));
  return `/api/episodes/${withTracks}/tracks/${encodeURIComponent(name)}?from_ns=${from}&to_ns=${Math.floor(from + width)}&points=2000`;
};
const list: number[] = [];
// Every window request; and apart, those asking for a window not asked before (built, not from the cache).
const win: Record<string, number[]> = { 'joints/position': [], 'cmd/value': [] };
const fresh: Record<string, number[]> = { 'joints/position': [], 'cmd/value': [] };
const asked = new Set<string>();
// A server answers windows for hours: its first requests also compile the bucketing and printing code (V8's
// optimizing tiers) and were 5–10× the median, a start-up cost that would otherwise be the quick run's p99 (2 of
// its 100 requests per track). They are sent first, timed, and reported apart; the p99 is of what follows.
const WARMUP = 20;
const warmup: number[] = [];
for (let i = 0; i < WARMUP; i++)
  for (const name of Object.keys(win)) warmup.push(await timed(windowPath(name, i + 1)));
windowTimings.length = 0;
windowBytes = 0;
windowCount = 0;
// CPU of this process over the loop (harness server and fetch client both): far less moved by the machine's
// other work than wall times are.
const loopCpu = process.cpuUsage();
for (let i = 0; i < windowRequests; i++) {
  list.push(await timed(`/api/episodes/${withTracks}/tracks`));
  for (const name of Object.keys(win)) {
    const path = windowPath(name, i);
    const ms = await timed(path);
    win[name]?.push(ms);
    if (!asked.has(path)) fresh[name]?.push(ms);
    asked.add(path);
  }
}
const loopCpuMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(loopCpu));
await new Promise((r) => setTimeout(r, 20)); // the last GC entries arrive asynchronously
gcObserver.disconnect();
const gcInside = (t: Timed) =>
  gcPauses.reduce(
    (sum, g) => sum + Math.max(0, Math.min(g.end, t.start + t.ms) - Math.max(g.start, t.start)),
    0,
  );
const slowest = [...windowTimings]
  .sort((a, b) => b.ms - a.ms)
  .slice(0, Math.max(1, Math.ceil(windowTimings.length / 100)));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const loadAfterWindows = load();
for (const [name, xs] of Object.entries(win)) {
  const firsts = fresh[name] ?? [];
  rows.push([
    `GET …/tracks/${name} (2,000 points; ${name === 'cmd/value' ? 'deflated, cached copy' : 'stored, read in place'}), every request (each 4th the whole episode again)`,
    `p50 ${pct(xs, 0.5).toFixed(1)} ms, p99 ${pct(xs, 0.99).toFixed(1)} ms`,
    `track list: p99 ${pct(list, 0.99).toFixed(1)} ms`,
    '',
    'p99 ≤ 50 ms',
  ]);
  rows.push([
    `GET …/tracks/${name}, windows not asked before only (${firsts.length}: built, not from the window cache)`,
    `p50 ${pct(firsts, 0.5).toFixed(1)} ms, p99 ${pct(firsts, 0.99).toFixed(1)} ms`,
    `track list: p99 ${pct(list, 0.99).toFixed(1)} ms`,
    '',
    'p99 ≤ 50 ms',
  ]);
}
rows.push([
  `the slowest 1% of window requests (${slowest.length} of ${windowTimings.length}): wall / GC pauses inside / process CPU (all threads)`,
  `${(sum(slowest.map((t) => t.ms)) / slowest.length).toFixed(1)} / ${(sum(slowest.map(gcInside)) / slowest.length).toFixed(1)} / ${(sum(slowest.map((t) => t.cpuMs)) / slowest.length).toFixed(1)} ms (mean)`,
  `first ${WARMUP} window requests per track after start (warm-up, not above): p50 ${pct(warmup, 0.5).toFixed(1)} ms, max ${Math.max(...warmup).toFixed(1)} ms`,
  '',
  '',
]);
rows.push([
  'window response size (mean over both tracks); CPU per request (server + client, this process)',
  `${(windowBytes / windowCount / 1024).toFixed(0)} KiB; CPU ${(loopCpuMs / (windowCount + list.length)).toFixed(1)} ms`,
  '',
  '',
  '',
]);

log('Chromium: first lane and scrubbing');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
// tsx compiles the functions given to page.evaluate with esbuild's keepNames, which calls a `__name` helper.
const NAME_SHIM = 'window.__name = (f) => f;';
async function firstLaneMs(id: string): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript({ content: NAME_SHIM });
  await page.addInitScript({
    content: "document.addEventListener('replay:ready', () => { window.readyAt = performance.now(); });",
  });
  await page.goto(harness.url(`/page/${id}`));
  await page.waitForSelector('[data-replay][data-state="ready"]');
  const ms = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return (window as unknown as { readyAt: number }).readyAt - nav.responseEnd;
  });
  await context.close();
  return ms;
}
const firstLane: number[] = [];
const firstEmpty: number[] = [];
for (let i = 0; i < runs; i++) {
  firstLane.push(await firstLaneMs(withTracks));
  firstEmpty.push(await firstLaneMs(noTracks));
}
rows.push([
  'tracks listed + first lane drawn after the HTML (Chromium)',
  `${median(firstLane).toFixed(0)} ms`,
  `no tracks: ${median(firstEmpty).toFixed(0)} ms`,
  '',
  '≤ 1,000 ms',
]);

const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
await page.addInitScript({ content: NAME_SHIM });
await page.goto(harness.url(`/page/${withTracks}`));
await page.waitForSelector('[data-replay][data-state="ready"]');
await page.waitForFunction(() =>
  [...document.querySelectorAll('section[role="region"]')].every((s) => (s as HTMLElement).dataset.drawn),
);
const scrub = (move: boolean) =>
  page.evaluate(async (doMove) => {
    const target = document.querySelector('.replay-axis-wrap .replay-overlay') as HTMLCanvasElement;
    const rect = target.getBoundingClientRect();
    const at = (x: number) => ({
      clientX: rect.left + x,
      clientY: rect.top + 5,
      pointerId: 1,
      bubbles: true,
    });
    if (doMove) target.dispatchEvent(new PointerEvent('pointerdown', at(10)));
    const stamps: number[] = [];
    await new Promise<void>((done) => {
      const frame = (ts: number) => {
        stamps.push(ts);
        if (doMove)
          target.dispatchEvent(
            new PointerEvent('pointermove', at(10 + ((stamps.length * 7) % (rect.width - 20)))),
          );
        if (stamps.length < 240) requestAnimationFrame(frame);
        else done();
      };
      requestAnimationFrame(frame);
    });
    if (doMove) target.dispatchEvent(new PointerEvent('pointerup', at(10)));
    const first = stamps[0] ?? 0;
    const last = stamps[stamps.length - 1] ?? 1;
    return ((stamps.length - 1) * 1000) / (last - first);
  }, move);
const idle = await scrub(false);
const scrubbing = await scrub(true);
rows.push([
  'scrubbing: playhead + hover every frame (Chromium, rAF)',
  `${scrubbing.toFixed(1)} frames/s`,
  `idle page: ${idle.toFixed(1)} frames/s`,
  '',
  '≥ 50 frames/s',
]);
await context.close();
await browser.close();
await harness.close();
await core.close();
if (!argv.includes('--no-compare')) {
  log('Chromium + started server: compare with 4 episodes');
  rows.push(...(await compareRows(dir, minutes, runs)));
}
rmSync(dir, { recursive: true, force: true });

const table = [
  `A ${minutes}-minute episode, 30 columns × 100 Hz (${(minutes * 60 * 100 * 30).toLocaleString('en-US')} samples) in sensors (24 columns, numpy.savez) + actions (6 columns, numpy.savez_compressed); ${quick ? 'quick' : 'full'} run on this 2-core machine. Load average (1 / 5 / 15 min): ${loadAtStart} at the start, ${loadAfterWindows} after the window requests, ${load()} at the end.`,
  '',
  '| measure | result | baseline (same run) | ratio | goal |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
process.stdout.write(`${table}\n`);
if (argv.includes('--write')) writeSection('Replay', table);
