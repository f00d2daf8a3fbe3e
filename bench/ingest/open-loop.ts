// Open-loop load at a fixed rate, for latency with headroom ("p99 at half the max rate"): request i is due at
// start + i / rate, evenly spaced, whether or not earlier ones were answered, and its latency is counted from
// when it was due (not from when it was sent), so a stalled server is not hidden by a generator that waits for
// it (coordinated omission). autocannon's -R / overallRate is not this: each connection sends its whole
// per-second quota back to back at the start of every second and then pauses, so "half the max rate" runs at
// full speed for half of each second, and it adds synthetic 1 ms-interval samples to every slow answer.
// Prints JSON: { rps, p50, p90, p99, max, total, non2xx, errors, statusCodes, lateSends }.
// Usage: node --import tsx bench/ingest/open-loop.ts '<json OpenLoopOptions>'
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface OpenLoopOptions {
  url: string;
  method: 'POST' | 'GET';
  headers?: Record<string, string>;
  body?: string;
  /** Requests per second, evenly spaced. */
  rate: number;
  duration: number;
  /** A fresh Idempotency-Key per request, as the SDKs send. */
  freshKey?: boolean;
}

export interface OpenLoopResult {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  total: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
  /** Requests sent more than 5 ms after they were due (the generator itself fell behind). */
  lateSends: number;
}

const o = JSON.parse(process.argv[2] ?? '{}') as OpenLoopOptions;
const url = new URL(o.url);
const agent = new Agent({ keepAlive: true, maxSockets: 512 });
const body = o.body ? Buffer.from(o.body) : undefined;
const latencies: number[] = [];
const statusCodes: Record<string, number> = {};
let errors = 0;
let lateSends = 0;
let outstanding = 0;

function send(dueAt: number): void {
  if (performance.now() - dueAt > 5) lateSends++;
  outstanding++;
  const req = request(
    {
      agent,
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      method: o.method,
      headers: {
        ...o.headers,
        ...(body ? { 'content-length': String(body.length) } : {}),
        ...(o.freshKey ? { 'idempotency-key': randomUUID() } : {}),
      },
    },
    (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(performance.now() - dueAt);
        const code = String(res.statusCode);
        statusCodes[code] = (statusCodes[code] ?? 0) + 1;
        outstanding--;
      });
    },
  );
  req.on('error', () => {
    errors++;
    outstanding--;
  });
  req.end(body);
}

const intervalMs = 1000 / o.rate;
const total = Math.round(o.rate * o.duration);
const start = performance.now();
let next = 0;
await new Promise<void>((resolve) => {
  // A 1 ms tick sends everything that fell due since the last one; between ticks requests queue by due time.
  const tick = setInterval(() => {
    const now = performance.now();
    while (next < total && start + next * intervalMs <= now) send(start + next++ * intervalMs);
    if (next >= total) {
      clearInterval(tick);
      resolve();
    }
  }, 1);
});
const deadline = performance.now() + 30_000;
while (outstanding > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
agent.destroy();

const sorted = [...latencies].sort((a, b) => a - b);
const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
const ok = Object.entries(statusCodes)
  .filter(([c]) => c.startsWith('2'))
  .reduce((s, [, n]) => s + n, 0);
const result: OpenLoopResult = {
  rps: ok / o.duration,
  p50: at(0.5),
  p90: at(0.9),
  p99: at(0.99),
  max: Math.round(sorted.at(-1) ?? 0),
  total,
  non2xx: latencies.length - ok,
  errors: errors + outstanding,
  statusCodes,
  lateSends,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
