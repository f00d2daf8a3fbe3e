// One measurement in a fresh process, so its peak RSS is its own: `index` indexes a file with the core function
// (PGlite, column cache), `scan` only its file part (indexTrackFile, no DB write), `read` only reads the same file
// once (1 MiB ranged reads; deflated members inflated),
// the baseline. One warm-up pass, 3 passes for the peak RSS, then the median of 3 timed passes. Prints one JSON line: { ms, cpuMs, growthMiB } — cpuMs is
// this process's user + system CPU time over the pass, much less moved by the other work on a shared machine than
// the wall time is.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, episode, project } from '@robotrace/db';
import { systemClock } from '../../packages/core/src/deps.js';
import {
  ColumnCache,
  indexArtifactTracks,
  indexTrackFile,
  openFileSource,
  readZipDirectory,
} from '../../packages/core/src/index.js';
import { memberChunks, memberDataOffset } from '../../packages/core/src/tracks/zip.js';

const [mode, path] = process.argv.slice(2);
if (!path || !['index', 'scan', 'read'].includes(mode ?? ''))
  throw new Error('usage: index-worker.ts index|scan|read FILE');
const file: string = path;

const kb = (field: string) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);

const dir = mkdtempSync(join(tmpdir(), 'rt-bench-replay-'));
mkdirSync(join(dir, 'db'));
const dbh = await createDb({ kind: 'pglite', dataDir: join(dir, 'db'), lock: false });
await dbh.migrate();
const projectId = crypto.randomUUID();
const episodeId = crypto.randomUUID();
await dbh.db.insert(project).values({ id: projectId, name: 'bench' });
await dbh.db.insert(episode).values({ id: episodeId, projectId, source: 'sim', status: 'ready', fps: 100 });
const cache = new ColumnCache(join(dir, 'cache'), 4 * 2 ** 30);
await cache.init();
const source = await openFileSource(file);
async function once(): Promise<void> {
  if (mode === 'index') {
    const list = await indexArtifactTracks(
      {
        db: dbh.db,
        clock: systemClock,
        tracks: { open: () => openFileSource(file), cache, maxIndexBytes: 8 * 2 ** 30 },
      },
      { projectId },
      episodeId,
      'sensors',
      source,
    );
    // A measurement that indexed nothing (a limit of 0, an unreadable file) would look fast: refuse it.
    if (list.tracks.length === 0 || list.warnings.length > 0)
      throw new Error(`indexed badly: ${JSON.stringify(list.warnings)}`);
  } else if (mode === 'scan') {
    // The file part of indexing alone (no DB write): what the read-once baseline compares with.
    const indexed = await indexTrackFile(source, 'sensors', {
      artifactKey: `scan-${Math.random()}`,
      cache,
      maxIndexBytes: 8 * 2 ** 30,
    });
    if (indexed.tracks.length === 0 || indexed.warnings.length > 0)
      throw new Error(`indexed badly: ${JSON.stringify(indexed.warnings)}`);
  } else
    for (const entry of await readZipDirectory(source)) {
      let bytes = 0;
      for await (const chunk of memberChunks(source, entry, await memberDataOffset(source, entry)))
        bytes += chunk.byteLength;
      if (bytes !== entry.size) throw new Error(`short read of ${entry.name}`);
    }
}
// A server indexes warm: one pass first (JIT, module loading), then the measured passes.
await once();
global.gc?.();
const before = kb('VmRSS');
let peak = before;
// VmHWM cannot be reset in every sandbox: sample VmRSS instead (the work awaits often, so the timer runs).
const sampler = setInterval(() => {
  peak = Math.max(peak, kb('VmRSS'));
}, 2);
for (let i = 0; i < 3; i++) {
  await once();
  peak = Math.max(peak, kb('VmRSS'));
}
clearInterval(sampler);
// Timed apart from the RSS passes: the 2 ms sampler reads /proc and would bill the longer pass for it.
global.gc?.();
const times: number[] = [];
const cpuTimes: number[] = [];
for (let i = 0; i < 3; i++) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  await once();
  times.push(performance.now() - started);
  const used = process.cpuUsage(cpu);
  cpuTimes.push((used.user + used.system) / 1000);
}
const ms = [...times].sort((a, b) => a - b)[1] ?? 0;
const cpuMs = [...cpuTimes].sort((a, b) => a - b)[1] ?? 0;
const growthMiB = (peak - before) / 1024;
await source.close();
await dbh.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ ms, cpuMs, growthMiB })}\n`);
