import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  parseTraceSource,
  TRACE_SOURCE_DEFAULTS,
  TraceSource,
  type TraceSourceConfig,
} from '../../src/trace-source/source.js';

// A real HTTP server on loopback plays the trace backend: each test sets how it answers.
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const otlpBody = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'robot' } }] },
      scopeSpans: [
        {
          spans: [
            {
              traceId: TRACE,
              spanId: '00f067aa0ba902b7',
              name: 'rollout',
              startTimeUnixNano: '1000',
              endTimeUnixNano: '2000',
            },
          ],
        },
      ],
    },
  ],
};

let answer: (req: IncomingMessage, res: ServerResponse) => void;
const seen: IncomingMessage[] = [];
let server: Server;
let base: string;
let other: Server;
let otherHits = 0;
let otherBase: string;

const listen = (s: Server) =>
  new Promise<string>((r) =>
    s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  );

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    answer(req, res);
  });
  base = await listen(server);
  other = createServer((_req, res) => {
    otherHits++;
    res.end(JSON.stringify(otlpBody));
  });
  otherBase = await listen(other);
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
  other.close();
});
beforeEach(() => {
  seen.length = 0;
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const config = (over: Partial<TraceSourceConfig> = {}): TraceSourceConfig => ({
  kind: 'jaeger',
  url: base,
  headers: {},
  ...TRACE_SOURCE_DEFAULTS,
  timeoutMs: 500,
  ...over,
});
const window = { startS: 1_796_000_000, endS: 1_796_000_060 };

describe('trace source over HTTP', () => {
  it('Jaeger: reads /api/v3 (OTLP in its result envelope) with the configured headers', async () => {
    answer = (_req, res) => json(res, 200, { result: otlpBody });
    const r = await new TraceSource(config({ headers: { authorization: 'Bearer secret-token' } })).lookup(
      TRACE,
      window,
    );
    expect(r).toMatchObject({ status: 'found', total_spans: 1, truncated: false, cached: false });
    expect(seen.map((q) => q.url)).toEqual([`/api/v3/traces/${TRACE}`]);
    expect(seen[0]?.headers.authorization).toBe('Bearer secret-token');
  });

  it('Jaeger: falls back to the classic API on a 404, and says not found when neither has it', async () => {
    answer = (req, res) =>
      req.url?.startsWith('/api/v3/')
        ? json(res, 404, { error: { message: 'not found' } })
        : json(res, 200, {
            data: [
              {
                spans: [
                  {
                    traceID: TRACE,
                    spanID: '00f067aa0ba902b7',
                    operationName: 'x',
                    startTime: 1,
                    duration: 1,
                  },
                ],
                processes: {},
              },
            ],
          });
    expect((await new TraceSource(config()).lookup(TRACE, window)).status).toBe('found');
    expect(seen.map((q) => q.url)).toEqual([`/api/v3/traces/${TRACE}`, `/api/traces/${TRACE}`]);
    answer = (_req, res) => json(res, 404, {});
    expect(await new TraceSource(config()).lookup(TRACE, window)).toMatchObject({ status: 'not_found' });
  });

  it("Tempo: /api/v2/traces with the episode's window, OTLP in Tempo's trace envelope", async () => {
    answer = (_req, res) => json(res, 200, { trace: otlpBody });
    const r = await new TraceSource(config({ kind: 'tempo' })).lookup(TRACE, window);
    expect(r.status).toBe('found');
    expect(seen[0]?.url).toBe(`/api/v2/traces/${TRACE}?start=1796000000&end=1796000060`);
  });

  it('otlp-json: fills the URL template', async () => {
    answer = (_req, res) => json(res, 200, otlpBody);
    const r = await new TraceSource(
      config({ kind: 'otlp-json', url: `${base}/t/{trace_id}?from={start_unix_ms}` }),
    ).lookup(TRACE, window);
    expect(r.status).toBe('found');
    expect(seen[0]?.url).toBe(`/t/${TRACE}?from=1796000000000`);
  });

  it('reads text outside ASCII exactly, raw UTF-8 and \\u-escaped alike', async () => {
    const names = ['greifer schließt 🤖', '把手 \u00e9'];
    const body = (text: string) =>
      JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'roboter-ü' } }] },
            scopeSpans: [{ spans: [{ ...otlpBody.resourceSpans[0]?.scopeSpans[0]?.spans[0], name: text }] }],
          },
        ],
      });
    for (const name of names)
      for (const escaped of [false, true]) {
        const text = body(name);
        // JSON's \u escapes: the same document in ASCII only.
        const sent = escaped
          ? text
              .split('') // UTF-16 code units: a surrogate pair becomes two escapes, as JSON writes it
              .map((c) =>
                c.charCodeAt(0) > 0x7f ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c,
              )
              .join('')
          : text;
        answer = (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
          res.end(sent);
        };
        const r = await new TraceSource(config({ kind: 'otlp-json', url: `${base}/t/{trace_id}` })).lookup(
          TRACE,
          window,
        );
        const [span] = r.status === 'found' ? r.spans.toArray() : [];
        expect([span?.name, span?.service]).toEqual([name, 'roboter-ü']);
      }
  });
  it('a 500, HTML, JSON that is no trace, a stall and a too-large body are "unavailable" with a reason', async () => {
    const cases: Array<[(req: IncomingMessage, res: ServerResponse) => void, RegExp]> = [
      [(_q, res) => json(res, 500, { oops: true }), /HTTP 500/],
      [(_q, res) => res.end('<html>login</html>'), /not JSON/],
      [(_q, res) => json(res, 200, { hello: 1 }), /neither OTLP nor Jaeger/],
      [() => {}, /did not answer within 500 ms/],
      [(_q, res) => res.end(`{"resourceSpans":[${' '.repeat(4096)}]}`), /larger than 1024 bytes/],
    ];
    for (const [how, reason] of cases) {
      answer = how;
      const r = await new TraceSource(config({ maxBytes: 1024 })).lookup(TRACE, window);
      expect(r.status).toBe('unavailable');
      expect(r.status === 'unavailable' && r.reason).toMatch(reason);
    }
  });

  it('never follows a redirect to another origin', async () => {
    answer = (_req, res) => {
      res.writeHead(302, { location: `${otherBase}/api/v3/traces/${TRACE}` });
      res.end();
    };
    const r = await new TraceSource(config()).lookup(TRACE, window);
    expect(r).toMatchObject({ status: 'unavailable' });
    expect(otherHits).toBe(0);
  });

  it('an unreachable backend is unavailable; a bad trace id is never sent', async () => {
    const closed = createServer();
    const url = await listen(closed);
    closed.close();
    expect(await new TraceSource(config({ url })).lookup(TRACE, window)).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(/ECONNREFUSED/),
    });
    expect(await new TraceSource(config()).lookup('../../admin', window)).toMatchObject({
      status: 'not_found',
    });
    expect(seen).toHaveLength(0);
  });

  it('caches a found trace for ttlMs and a miss only for missTtlMs', async () => {
    let now = 0;
    answer = (_req, res) => json(res, 404, {});
    const source = new TraceSource(config({ ttlMs: 60_000, missTtlMs: 5_000 }), fetch, () => now);
    await source.lookup(TRACE, window);
    expect((await source.lookup(TRACE, window)).cached).toBe(true);
    now = 6_000;
    answer = (_req, res) => json(res, 200, { result: otlpBody });
    expect(await source.lookup(TRACE, window)).toMatchObject({ status: 'found', cached: false });
    now = 30_000;
    expect(await source.lookup(TRACE, window)).toMatchObject({ status: 'found', cached: true });
  });
});

describe('ROBOTRACE_TRACE_SOURCE values', () => {
  it('accepts the three kinds and explains what is wrong otherwise', () => {
    expect(parseTraceSource('jaeger:http://jaeger:16686/')).toEqual({
      kind: 'jaeger',
      url: 'http://jaeger:16686',
    });
    expect(parseTraceSource('tempo:https://tempo.example.com')).toEqual({
      kind: 'tempo',
      url: 'https://tempo.example.com',
    });
    expect(parseTraceSource('otlp-json:https://x.example/t/{trace_id}')).toMatchObject({ kind: 'otlp-json' });
    expect(parseTraceSource('zipkin:http://z')).toHaveProperty('error');
    expect(parseTraceSource('jaeger:file:///etc/passwd')).toEqual({
      error: 'only http:// and https:// URLs are allowed',
    });
    expect(parseTraceSource('otlp-json:https://x.example/t')).toEqual({
      error: 'an otlp-json URL template needs {trace_id}',
    });
    expect(parseTraceSource('jaeger:http://u:p@j:16686')).toHaveProperty('error');
  });
});
