// Load generator of the ingest flow as the SDKs run it: create (one upload slot) → PUT the file to the signed URL
// → finalize, with the SDKs' headers and a fresh Idempotency-Key on create and on finalize (as both SDKs send
// them; the bare server ignores them). Runs in its own process (bench/ingest/run.ts spawns it) so it never shares the server's or the
// bench's event loop; `concurrency` workers loop for `durationS` seconds; prints one JSON line.
// Usage: node --import tsx bench/ingest/flow.ts '<json FlowOptions>'
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export interface FlowOptions {
  baseUrl: string;
  apiKey: string;
  concurrency: number;
  durationS: number;
  uploadBytes: number;
}

export interface FlowResult {
  flows: number;
  flowsPerS: number;
  p50: number;
  p99: number;
  /** Failed flows by the step and status that failed them, e.g. `{ "put 503": 3 }`. */
  failures: Record<string, number>;
}

const o = JSON.parse(process.argv[2] ?? '{}') as FlowOptions;
const auth = {
  authorization: `Bearer ${o.apiKey}`,
  'content-type': 'application/json',
  accept: 'application/json',
  'user-agent': `robotrace-ts/0.1.0 node/${process.versions.node} ${process.platform}/${process.arch}`,
  'x-robotrace-sdk-version': '0.1.0',
};
const file = Buffer.alloc(o.uploadBytes, 0x42);
const latencies: number[] = [];
const failures: Record<string, number> = {};
const fail = (step: string, status: number | string) => {
  failures[`${step} ${status}`] = (failures[`${step} ${status}`] ?? 0) + 1;
};

async function flow(): Promise<void> {
  const t0 = performance.now();
  const created = await fetch(`${o.baseUrl}/api/ingest/episode`, {
    method: 'POST',
    headers: { ...auth, 'idempotency-key': randomUUID() },
    body: JSON.stringify({ source: 'sim', name: 'bench-flow', request_uploads: ['sensors'] }),
  });
  if (created.status !== 201) return fail('create', created.status);
  const body = (await created.json()) as { episode_id: string; upload_urls: { url: string }[] };
  const put = await fetch(body.upload_urls[0]?.url ?? '', {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: file,
  });
  await put.arrayBuffer();
  if (put.status >= 400) return fail('put', put.status);
  const fin = await fetch(`${o.baseUrl}/api/ingest/episode/${body.episode_id}/finalize`, {
    method: 'POST',
    headers: { ...auth, 'idempotency-key': randomUUID() },
    body: JSON.stringify({ status: 'ready', bytes_total: o.uploadBytes }),
  });
  await fin.arrayBuffer();
  if (fin.status !== 200) return fail('finalize', fin.status);
  latencies.push(performance.now() - t0);
}

const deadline = performance.now() + o.durationS * 1000;
const started = performance.now();
await Promise.all(
  Array.from({ length: o.concurrency }, async () => {
    while (performance.now() < deadline) {
      try {
        await flow();
      } catch (err) {
        fail('network', (err as Error).name);
      }
    }
  }),
);
const elapsedS = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0);
const result: FlowResult = {
  flows: latencies.length,
  flowsPerS: latencies.length / elapsedS,
  p50: pct(0.5),
  p99: pct(0.99),
  failures,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
