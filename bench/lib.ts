import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface LoadOptions {
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  duration: number;
  /** Fixed request rate (req/s overall), for latency at a given load. */
  rate?: number;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Responses per HTTP status (e.g. `{ "201": 950, "503": 50 }`), for shares of 429/503 past saturation. */
  statusCodes: Record<string, number>;
  /** Requests sent in all. */
  total: number;
}

const autocannonBin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

/** Runs autocannon in a separate process (so the load generator does not share our event loop). */
export async function loadTest(o: LoadOptions): Promise<LoadResult> {
  const args = [autocannonBin, '-j', '-c', String(o.connections), '-d', String(o.duration), '-m', o.method];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (o.body) args.push('-b', o.body);
  if (o.rate) args.push('-R', String(o.rate));
  args.push(o.url);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`autocannon exited ${code}`))));
  });
  return loadResultOf(JSON.parse(out));
}

/** Runs a bench script in a process of its own (`node --import tsx <script> '<options as JSON>'`), returns the JSON it prints. */
export async function runJsonScript<T>(script: string, options: unknown): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`${script} exited ${code}`);
  return JSON.parse(out) as T;
}

/** loadTest as the SDKs send creates: a fresh Idempotency-Key per request unless `freshKey: false` (bench/ingest/keyed-load.ts). */
export async function keyedLoadTest(o: LoadOptions & { freshKey?: boolean }): Promise<LoadResult> {
  return loadResultOf(await runJsonScript('bench/ingest/keyed-load.ts', o));
}

/** autocannon's JSON summary as a LoadResult. */
function loadResultOf(summary: unknown): LoadResult {
  const r = summary as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
    statusCodeStats?: Record<string, { count: number }>;
  };
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: Object.fromEntries(
      Object.entries(r.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count]),
    ),
    total: r.requests.total,
  };
}

/** Replaces (or appends) one `## <title>` section of docs/BENCHMARKS.md; other sections are left alone. */
export function writeSection(title: string, content: string, file = 'docs/BENCHMARKS.md'): void {
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const heading = `## ${title}`;
  const start = doc.indexOf(`${heading}\n`);
  const section = `${heading}\n\n${content.trim()}\n`;
  if (start === -1) {
    writeFileSync(file, `${doc.trimEnd()}\n\n${section}`);
    return;
  }
  let next = doc.indexOf('\n## ', start + heading.length);
  // A `<!-- name:start -->` marker right above the next heading belongs to that section (sdk-ts writes by markers).
  if (next !== -1) {
    const marker = /\n<!-- [\w-]+:start -->\s*$/.exec(doc.slice(start, next));
    if (marker) next = start + marker.index;
  }
  writeFileSync(
    file,
    `${doc.slice(0, start)}${section}${next === -1 ? '' : `\n${doc.slice(next).replace(/^\n+/, '')}`}`,
  );
}
