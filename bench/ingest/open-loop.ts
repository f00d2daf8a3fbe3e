// Open-loop load at a fixed rate, for latency with headroom ("p99 at half the max rate"): request i is due at
// start + i / rate, evenly spaced, whether or not earlier ones were answered, and its latency is counted from
// when it was due (not from when it was sent), so a stalled server is not hidden by a generator that waits for
// it (coordinated omission). autocannon's -R / overallRate is not this: each connection sends its whole
// per-second quota back to back at the start of every second and then pauses, so "half the max rate" runs at
// full speed for half of each second, and it adds synthetic 1 ms-interval samples to every slow answer.
// The client is lean on purpose: it shares the 2 cores with the server under test, and node:http's client cost
// ~100 µs of CPU a request (at 3,300 req/s a third of a core, enough that 10–16 % of the requests left late and
// the p99 measured the generator). Here each request is a prebuilt byte string (a fresh key written into a copy)
// on a keep-alive socket, one in flight per socket as a client pool does, and the answer is read by its
// Content-Length (both servers send one; an answer without it counts as an error).
// Prints JSON: { rps, p50, p90, p99, max, total, non2xx, errors, statusCodes, lateSends }.
// Usage: node --import tsx bench/ingest/open-loop.ts '<json OpenLoopOptions>'
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';

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
const MAX_SOCKETS = 512;
const body = Buffer.from(o.body ?? '');
const KEY_PLACEHOLDER = '00000000-0000-0000-0000-000000000000';
const headerLines = [
  `${o.method} ${url.pathname}${url.search} HTTP/1.1`,
  `host: ${url.host}`,
  'connection: keep-alive',
  ...Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ...(o.body ? [`content-length: ${body.length}`] : []),
  ...(o.freshKey ? [`idempotency-key: ${KEY_PLACEHOLDER}`] : []),
];
const template = Buffer.concat([Buffer.from(`${headerLines.join('\r\n')}\r\n\r\n`), body]);
const keyAt = o.freshKey ? template.indexOf(KEY_PLACEHOLDER) : -1;

const latencies: number[] = [];
const statusCodes: Record<string, number> = {};
let errors = 0;
let lateSends = 0;
let outstanding = 0;

/** One keep-alive connection with at most one request in flight; `done` settles that request. */
interface Conn {
  socket: Socket;
  dueAt: number;
  buffer: Buffer;
  busy: boolean;
}
const idle: Conn[] = [];
let open = 0;
const waiting: number[] = [];

function finish(conn: Conn, status: string | null): void {
  if (status === null) errors++;
  else {
    latencies.push(performance.now() - conn.dueAt);
    statusCodes[status] = (statusCodes[status] ?? 0) + 1;
  }
  outstanding--;
  conn.busy = false;
  const due = waiting.shift();
  if (due !== undefined) write(conn, due);
  else idle.push(conn);
}

/** Reads answers off a socket: status line, headers up to the blank line, then Content-Length bytes. */
function onData(conn: Conn, chunk: Buffer): void {
  conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, chunk]) : chunk;
  for (;;) {
    const end = conn.buffer.indexOf('\r\n\r\n');
    if (end === -1 || !conn.busy) return;
    const head = conn.buffer.toString('latin1', 0, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      conn.socket.destroy();
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (conn.buffer.length < total) return;
    conn.buffer = conn.buffer.subarray(total);
    finish(conn, head.slice(9, 12));
  }
}

function newConn(): Conn {
  open++;
  const conn: Conn = {
    socket: connect(Number(url.port), url.hostname),
    dueAt: 0,
    buffer: Buffer.alloc(0),
    busy: false,
  };
  conn.socket.setNoDelay(true);
  conn.socket.on('data', (chunk: Buffer) => onData(conn, chunk));
  conn.socket.on('error', () => undefined);
  conn.socket.on('close', () => {
    open--;
    const at = idle.indexOf(conn);
    if (at !== -1) idle.splice(at, 1);
    if (conn.busy) {
      conn.busy = false;
      outstanding--;
      errors++;
    }
  });
  return conn;
}

function write(conn: Conn, dueAt: number): void {
  if (performance.now() - dueAt > 5) lateSends++;
  conn.busy = true;
  conn.dueAt = dueAt;
  const request = keyAt === -1 ? template : Buffer.from(template);
  if (keyAt !== -1) request.write(randomUUID(), keyAt, 'latin1');
  conn.socket.write(request);
}

function send(dueAt: number): void {
  outstanding++;
  const conn = idle.pop() ?? (open < MAX_SOCKETS ? newConn() : undefined);
  if (conn) write(conn, dueAt);
  else waiting.push(dueAt);
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
for (const conn of idle) conn.socket.destroy();

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
