/**
 * Durable, non-blocking delivery (issue 18). Run: `npx tsx bench/delivery/run.ts [--quick]`; writes the
 * "Delivery" section of docs/BENCHMARKS.md.
 *
 * Against the started server (local disk), with a 100 MB video, in both SDKs (the Python half is
 * bench/delivery/python_delivery.py):
 * 1. `logEpisode` blocking (create + PUT + finalize) vs background (returns once the record is spooled):
 *    per-call latency, same run. Goal: background p99 ≤ 2 ms.
 * 2. Draining: N episodes by a blocking loop vs background delivery (N calls, then flush). Goal ≥ 0.9×.
 * 3. A 1 GiB file to S3 (moto): in resumable parts (one read of the file: each 8 MiB part hashed and sent from
 *    memory with its SHA-256 signed into its URL, three in flight; complete checks S3's composite checksum, no
 *    read-back) vs one presigned PUT of the same file. Goal ≥ 0.8×. `--parts-only` runs just this.
 * 4. An upload interrupted mid-part (the connection dropped half-way through part 4), then resumed: bytes the
 *    server received beyond the file, in parts. Goal ≤ 2 parts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { RoboTrace } from '../../packages/sdk-ts/src/client.js';
import { deliveryBackend } from '../../packages/sdk-ts/src/spool/backend.js';
import {
  type MultipartProgress,
  type PartBody,
  uploadInParts,
} from '../../packages/sdk-ts/src/spool/multipart.js';
import { uploadFile } from '../../packages/sdk-ts/src/upload.js';
import { MOTO_CREDENTIALS, startMoto, type TestS3 } from '../../test/support/moto.js';
import { startServer, type TestServer } from '../../test/support/server.js';
import { writeSection } from '../lib.js';

const quick = process.argv.includes('--quick');
const VIDEO_BYTES = 100 * 1024 * 1024;
const DRAIN = quick ? 3 : 8;
const CALLS = quick ? 50 : 200;
const BIG_BYTES = (quick ? 256 : 1024) * 1024 * 1024;
const PART = 8 * 1024 * 1024;
/** Rounds of the 1 GiB comparison (PUT, parts, PUT, parts …), each side's best reported. */
const ROUNDS = quick ? 1 : 3;

const work = mkdtempSync(join(tmpdir(), 'robotrace-bench-delivery-'));
const video = join(work, 'video.mp4');
const bytes = Buffer.alloc(VIDEO_BYTES);
for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32LE(i, i);
writeFileSync(video, bytes);

interface TailRow {
  p50: number;
  p99: number;
  max: number;
}
const TAIL_CASES = ['floor', 'no worker', 'worker', 'worker, busy GIL'] as const;

const pct = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;
const mbps = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB/s`;

if (process.argv.includes('--parts-only')) {
  // Just the 1 GiB parts-vs-PUT comparison, printed (docs/BENCHMARKS.md is written by the full run only).
  const r = await partsVsSinglePut(bigFile());
  process.stdout.write(
    `PUT ${r.putS.toFixed(1)} s, parts ${r.partsS.toFixed(1)} s: ${(r.putS / r.partsS).toFixed(2)}×\n`,
  );
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

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
    // CALLS × 100 MB of links: past the default 10 GiB bound, which would refuse (and time) the rest.
    env: { ROBOTRACE_SPOOL_MAX_BYTES: String(2 ** 50) },
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

  // Where the Python call's tail comes from: the machine's floor vs the worker vs a busy GIL (same run).
  const tail = spawnSync(
    '.cache/venv-sdk/bin/python',
    ['bench/delivery/python_call_tail.py', '--calls', String(CALLS), '--rounds', quick ? '1' : '3'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (tail.status !== 0) throw new Error(`python_call_tail.py exited ${tail.status}`);
  const tails = (JSON.parse(tail.stdout) as { rounds: Array<Record<string, TailRow | number>> }).rounds;

  // 4. Interrupted mid-part, then resumed (local disk: the server counts every byte it receives).
  const interrupted = await resumeAfterInterruption(opts, video, VIDEO_BYTES);

  // 3. A big file to S3 (moto): parts vs one PUT.
  const s3Result = await partsVsSinglePut(bigFile());

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
  const tailTable = [
    `| round (load) | ${TAIL_CASES.join(' | ')} |`,
    `|---|${TAIL_CASES.map(() => '---').join('|')}|`,
    ...tails.map(
      (row, i) =>
        `| ${i + 1} (${row.load_1m}) | ${TAIL_CASES.map((c) => {
          const r = row[c] as TailRow;
          return `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} / ${r.max.toFixed(1)}`;
        }).join(' | ')} |`,
    ),
  ].join('\n');
  const s3Table = [
    `| case | one presigned PUT | resumable parts | parts / PUT (goal ≥ 0.8×) |`,
    '|---|---|---|---|',
    `| ${BIG_BYTES / 1024 / 1024} MiB to S3 (moto) | ${s3Result.putS.toFixed(1)} s (${mbps(BIG_BYTES / s3Result.putS)}) | ${s3Result.partsS.toFixed(1)} s (${mbps(BIG_BYTES / s3Result.partsS)}; complete ${s3Result.completeS.toFixed(1)} s of it) | ${(s3Result.putS / s3Result.partsS).toFixed(2)}× |`,
    '',
    '| interrupted upload | file | server received | re-sent (goal ≤ 2 parts) |',
    '|---|---|---|---|',
    `| dropped half-way through part 4 of ${Math.ceil(VIDEO_BYTES / PART)}, resumed | ${mbps(VIDEO_BYTES).replace('/s', '')} | ${(interrupted.received / 1024 / 1024).toFixed(1)} MiB | ${((interrupted.received - VIDEO_BYTES) / PART).toFixed(2)} parts |`,
  ].join('\n');
  const section = `Run: \`npx tsx bench/delivery/run.ts\` (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}; ${quick ? 'quick' : 'full'} run).
The started server on local disk; a 100 MB video. **Call**: \`logEpisode\` / \`log_episode\` timed per call —
blocking is create + PUT + finalize, background returns once the record is in the spool (files hard-linked,
spec/SPOOL.md); ${CALLS} background calls, into a spool whose server does not answer so nothing else moves
gigabytes meanwhile. **Drain**: ${DRAIN} episodes, one blocking loop vs background (the ${DRAIN} calls, then
\`flush()\`), as bytes per second of the whole run.

${table}

**Where the Python call's tail comes from** (\`bench/delivery/python_call_tail.py\`, ${CALLS} calls per cell,
p50 / p99 / max in ms, the 1-minute load average per round): **floor** is no robotrace at all — the same
file-system steps a spooled call makes (mkdir, link, write a small JSON file, rename twice) — i.e. what this
machine gives any process; **no worker** is \`log_episode\` with the delivery thread parked; **worker** as shipped;
**busy GIL** as shipped with one more thread spinning in Python (a data loader). The caller's path only appends
(link + write + rename; the byte count of the spool is recounted by the worker, never by the call); the worker
holds no lock the call takes across I/O. A tail the floor shares is the machine's, not the SDK's.

${tailTable}

**Resumable uploads** (the TypeScript SDK's part sender, 8 MiB parts): a ${BIG_BYTES / 1024 / 1024} MiB file to a server on S3
(moto) as one presigned PUT vs in parts (${ROUNDS} alternated rounds, each side's best) — one read of the file: each part hashed in memory (its SHA-256 and
the whole file's) and sent from there with its SHA-256 signed into its URL, three in flight; complete checks
each part's size and S3's composite checksum against the part hashes, no read-back (spec/SPOOL.md). "complete" is
the time after the last part was acknowledged: moto assembling the object (it copies every part into one buffer
and writes it out, in Python; S3 assembles in place). And on local disk, an
upload whose connection drops half-way through part 4, resumed by a second \`uploadInParts\` from the spool
state: the bytes the server received for it (\`bytes_received\` of complete), beyond the file itself.

${s3Table}`;
  process.stdout.write(`${table}\n${s3Table}\n`);
  writeSection('Delivery', section);
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}

function bigFile(): string {
  const big = join(work, 'big.mp4');
  writeFileSync(big, Buffer.alloc(0));
  for (let off = 0; off < BIG_BYTES; off += VIDEO_BYTES)
    writeFileSync(big, bytes.subarray(0, Math.min(VIDEO_BYTES, BIG_BYTES - off)), { flag: 'a' });
  return big;
}

async function resumeAfterInterruption(
  opts: { apiKey: string; baseUrl: string; env: Record<string, string>; quiet: boolean },
  path: string,
  size: number,
): Promise<{ received: number }> {
  const client = new RoboTrace(opts);
  const backend = deliveryBackend(client.config, 'robotrace-bench', undefined);
  const created = await backend.transport.json<{ episode_id: string }>({
    method: 'POST',
    path: '/api/ingest/episode',
    body: { source: 'sim', name: 'bench interrupted', request_uploads: ['video'] },
    what: 'create',
  });
  const progress: MultipartProgress = {};
  const file = { kind: 'video' as const, path, size };
  let sent = 0;
  let dropped = false;
  const dropping = async (url: string, part: PartBody) => {
    if (dropped) throw new Error('interrupted'); // the connection is gone for the parts not yet started
    if (++sent < 4) return backend.uploadPart('video', url, part);
    dropped = true;
    // Part 4: half of it, then the connection drops (the stream errors mid-body).
    // Pulled in 256 KiB chunks like a real body, so the half is on the wire before the error.
    const half = part.bytes.subarray(0, Math.floor(part.bytes.length / 2));
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (at >= half.length) {
          await new Promise((r) => setTimeout(r, 200)); // let the sent bytes reach the server
          controller.error(new Error('connection dropped'));
          return;
        }
        controller.enqueue(half.subarray(at, at + 256 * 1024));
        at += 256 * 1024;
      },
    });
    await fetch(new URL(url, opts.baseUrl), {
      method: 'PUT',
      headers: {
        ...part.headers,
        'content-length': String(part.bytes.length),
        'content-type': 'application/octet-stream',
      },
      body,
      duplex: 'half',
    } as RequestInit).catch(() => undefined);
    throw new Error('interrupted');
  };
  await uploadInParts(
    backend.transport,
    created.episode_id,
    file,
    progress,
    async () => undefined,
    dropping,
  ).catch(() => undefined);
  const done = await uploadInParts(
    backend.transport,
    created.episode_id,
    file,
    progress,
    async () => undefined,
    (url, part) => backend.uploadPart('video', url, part),
  );
  return { received: done.bytes_received ?? Number.NaN };
}

async function partsVsSinglePut(path: string): Promise<{ putS: number; partsS: number; completeS: number }> {
  const s3 = await startMoto();
  await s3.createBucket('bench-delivery');
  const server = await startServer({
    env: {
      ROBOTRACE_STORAGE: 's3',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: 'bench-delivery',
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      S3_FORCE_PATH_STYLE: '1',
      ROBOTRACE_UPLOAD_URL_TTL_S: '3600',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  try {
    return await partsVsSinglePutOn(server, s3, path);
  } catch (error) {
    // The server's own account of a failure (its log) is what tells a 500 apart.
    process.stderr.write(server.output().split('\n').slice(-40).join('\n'));
    throw error;
  } finally {
    await server.stop();
    await s3.stop();
  }
}

async function partsVsSinglePutOn(
  server: TestServer,
  s3: TestS3,
  path: string,
): Promise<{ putS: number; partsS: number; completeS: number }> {
  {
    const client = new RoboTrace({ apiKey: server.apiKey, baseUrl: server.baseUrl, env: {}, quiet: true });
    const backend = deliveryBackend(client.config, 'robotrace-bench', undefined);
    const create = () =>
      backend.transport.json<{ episode_id: string; upload_urls: Array<{ url: string }> }>({
        method: 'POST',
        path: '/api/ingest/episode',
        body: { source: 'sim', name: 'bench s3', request_uploads: ['video'] },
        what: 'create',
      });
    // Alternated rounds, each side's best kept: the machine is shared, and a burst of someone else's load
    // during one run should not decide the ratio.
    let putS = Number.POSITIVE_INFINITY;
    let partsS = Number.POSITIVE_INFINITY;
    let completeS = Number.NaN;
    for (let round = 0; round < ROUNDS; round++) {
      const one = await create();
      let t = performance.now();
      await uploadFile({
        kind: 'video',
        path,
        url: one.upload_urls[0]?.url ?? '',
        fetch: globalThis.fetch,
        idleTimeoutMs: 120_000,
        maxRetries: 0,
        userAgent: 'robotrace-bench',
      });
      putS = Math.min(putS, (performance.now() - t) / 1000);
      await s3.client.send(
        new DeleteObjectCommand({ Bucket: 'bench-delivery', Key: keyOf(one.upload_urls[0]?.url) }),
      );

      const two = await create();
      t = performance.now();
      let lastAck = t;
      const done = await uploadInParts(
        backend.transport,
        two.episode_id,
        { kind: 'video', path, size: BIG_BYTES },
        {},
        async () => undefined,
        async (url, part) => {
          const etag = await backend.uploadPart('video', url, part);
          lastAck = performance.now();
          return etag;
        },
      );
      const roundS = (performance.now() - t) / 1000;
      if (roundS < partsS) {
        partsS = roundS;
        completeS = (performance.now() - lastAck) / 1000; // only complete runs after the last part
      }
      if (done.size_bytes !== BIG_BYTES) throw new Error(`complete answered ${done.size_bytes} bytes`);
      await s3.client.send(
        new DeleteObjectCommand({ Bucket: 'bench-delivery', Key: keyOf(two.upload_urls[0]?.url) }),
      );
    }
    return { putS, partsS, completeS };
  }
}

/** The object key of a presigned path-style URL (`/<bucket>/<key>?…`). */
function keyOf(url: string | undefined): string {
  return decodeURIComponent(new URL(url ?? '').pathname.split('/').slice(2).join('/'));
}
