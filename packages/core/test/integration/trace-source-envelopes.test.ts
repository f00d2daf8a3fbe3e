import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJaeger, type TestJaeger } from '../../../../test/support/jaeger.js';
import { TRACE_SOURCE_DEFAULTS, TraceSource, type TraceSourceConfig } from '../../src/trace-source/source.js';

/**
 * Tempo (AGPL: never run here) and any OTLP-JSON backend, against Jaeger's real output: spans exported to a real
 * Jaeger v2, its /api/v3 answer captured, then served by a local server in Tempo v2's envelope (`{trace: …}` at
 * /api/v2/traces/{id}?start&end) and as plain OTLP JSON at an otlp-json URL template.
 */
const TRACE = '5c8a1f0e9d7b6a5948372615aabbccdd';
const TRACE2 = '6d9b2f1fae8c7b6a59483726bbccddee';
const ROOT = 'a1a1a1a1a1a1a1a1';
const CHILD = 'b2b2b2b2b2b2b2b2';
const T0 = 1_796_100_000_000_000_000n;

let jaeger: TestJaeger | undefined;
let jaegerBody: { result: { resourceSpans: unknown[] } };
let local: Server;
let localUrl = '';
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  jaeger = await startJaeger();
  const res = await fetch(`${jaeger.otlpHttp}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'arm-controller' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: TRACE,
                  spanId: ROOT,
                  name: 'rollout',
                  kind: 1,
                  startTimeUnixNano: String(T0),
                  endTimeUnixNano: String(T0 + 4_000_000_000n),
                },
                {
                  traceId: TRACE,
                  spanId: CHILD,
                  parentSpanId: ROOT,
                  name: 'sensor.fetch',
                  kind: 3,
                  startTimeUnixNano: String(T0 + 10_000_000n),
                  endTimeUnixNano: String(T0 + 30_000_000n),
                  events: [{ name: 'frame', timeUnixNano: String(T0 + 20_000_000n) }],
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  expect(res.status).toBe(200);
  // Jaeger's pipeline batches: read its own answer until both spans are stored.
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${jaeger.query}/api/v3/traces/${TRACE}`);
    if (r.ok) {
      const body = (await r.json()) as typeof jaegerBody;
      const count = JSON.stringify(body).split('"spanId"').length - 1;
      if (count === 2) {
        jaegerBody = body;
        break;
      }
    } else await r.arrayBuffer();
    await new Promise((done) => setTimeout(done, 100));
  }
  expect(jaegerBody).toBeDefined();
  await jaeger.stop();
  jaeger = undefined;

  local = createServer((req, res) => {
    seen.push(req);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === `/api/v2/traces/${TRACE}`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ trace: jaegerBody.result }));
    } else if (url.pathname === `/api/v2/traces/${TRACE2}`) {
      // The same spans under another trace id (Jaeger writes ids as hex): a second trace for the cache's budget.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ trace: jaegerBody.result }).replaceAll(TRACE, TRACE2));
    } else if (url.pathname === `/otlp/${TRACE}`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jaegerBody.result));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
  localUrl = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
}, 900_000);

afterAll(async () => {
  await jaeger?.stop();
  local?.closeAllConnections();
  await new Promise((r) => (local ? local.close(r) : r(null)));
});

const source = (kind: TraceSourceConfig['kind'], url: string) =>
  new TraceSource({ ...TRACE_SOURCE_DEFAULTS, kind, url, headers: {} });
const window = { startS: 1_796_099_700, endS: 1_796_100_304.2 };

function expectJaegersSpans(r: Awaited<ReturnType<TraceSource['lookup']>>): void {
  expect(r.status).toBe('found');
  if (r.status !== 'found') return;
  const spans = r.spans.toArray();
  expect(spans.map((s) => [s.name, s.span_id, s.parent_span_id, s.service, s.kind])).toEqual([
    ['rollout', ROOT, null, 'arm-controller', 'internal'],
    ['sensor.fetch', CHILD, ROOT, 'arm-controller', 'client'],
  ]);
  expect(spans[1]?.events).toEqual([
    { name: 'frame', time_unix_ns: String(T0 + 20_000_000n), attributes: {} },
  ]);
}

describe("Tempo's envelope and an OTLP-JSON template, serving Jaeger's real output", () => {
  it('tempo: GET /api/v2/traces/{id} with start/end (epoch seconds around the episode)', async () => {
    seen.length = 0;
    expectJaegersSpans(await source('tempo', localUrl).lookup(TRACE, window));
    expect(seen.map((r) => r.url)).toEqual([`/api/v2/traces/${TRACE}?start=1796099700&end=1796100305`]);
  });

  it('otlp-json: the template with {trace_id} and the time placeholders', async () => {
    seen.length = 0;
    const r = await source(
      'otlp-json',
      `${localUrl}/otlp/{trace_id}?from={start_unix_ms}&to={end_iso}`,
    ).lookup(TRACE.toUpperCase(), window);
    expectJaegersSpans(r);
    expect(seen.map((q) => q.url)).toEqual([
      `/otlp/${TRACE}?from=1796099700000&to=${encodeURIComponent(new Date(1_796_100_305_000).toISOString())}`,
    ]);
  });

  it('lookups of one trace at once (the Tracing card and the lane) ask the backend once, then the cache answers', async () => {
    seen.length = 0;
    const tempo = source('tempo', localUrl);
    const [a, b] = await Promise.all([tempo.lookup(TRACE, window), tempo.lookup(TRACE, window)]);
    expect([a.status, b.status, a.cached, b.cached]).toEqual(['found', 'found', false, false]);
    expect(a.fetchedAtMs).toBe(b.fetchedAtMs);
    const c = await tempo.lookup(TRACE, window);
    expect(c).toMatchObject({ status: 'found', cached: true, fetchedAtMs: a.fetchedAtMs });
    expect(seen).toHaveLength(1);
  });

  it('the cache holds a bounded number of spans: the oldest trace is dropped to make room', async () => {
    const small = new TraceSource({
      ...TRACE_SOURCE_DEFAULTS,
      kind: 'tempo',
      url: localUrl,
      headers: {},
      maxCachedSpans: 3,
    });
    const other = '0123456789abcdef0123456789abcdef';
    expect((await small.lookup(TRACE, window)).cached).toBe(false);
    expect((await small.lookup(TRACE, window)).cached).toBe(true);
    await small.lookup(other, window); // not found: holds no spans, so it evicts nothing
    expect((await small.lookup(TRACE, window)).cached).toBe(true);
    // A second found trace of 2 spans does not fit beside the first (3 at most): the oldest goes.
    expect(await small.lookup(TRACE2, window)).toMatchObject({
      status: 'found',
      total_spans: 2,
      cached: false,
    });
    expect((await small.lookup(TRACE2, window)).cached).toBe(true);
    expect((await small.lookup(TRACE, window)).cached).toBe(false);
    const tiny = new TraceSource({
      ...TRACE_SOURCE_DEFAULTS,
      kind: 'tempo',
      url: localUrl,
      headers: {},
      maxCachedSpans: 1,
    });
    await tiny.lookup(TRACE, window);
    seen.length = 0;
    // Two spans exceed a one-span budget: never cached, asked again.
    expect(await tiny.lookup(TRACE, window)).toMatchObject({ status: 'found', cached: false });
    expect(seen).toHaveLength(1);
  });

  it('tempo: a trace it does not have is not_found', async () => {
    const r = await source('tempo', localUrl).lookup('0123456789abcdef0123456789abcdef', window);
    expect(r).toMatchObject({ status: 'not_found' });
  });
});
