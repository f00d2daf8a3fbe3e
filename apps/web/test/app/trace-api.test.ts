import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CreateEpisodeResponse, EpisodeTrace, TraceOverview } from '@robotrace/contracts';
import { TRACE_SOURCE_DEFAULTS, TraceSource } from '@robotrace/core';
import { episode, trackIndex } from '@robotrace/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { useApp } from '../support/app.js';
import { signIn } from '../support/portal-http.js';

/**
 * GET /api/episodes/{id}/trace and /api/traces/{trace_id} on the app in process, with a real HTTP server on
 * loopback playing the team's trace backend (OTLP JSON at an otlp-json URL template). Each test sets how the
 * backend answers: spans, garbage, errors, a stall, a huge trace.
 */
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const T0 = 1_796_000_000_000_000_000n;

let answer: (req: IncomingMessage, res: ServerResponse) => void;
const seen: IncomingMessage[] = [];
let backend: Server;
let backendUrl = '';

beforeAll(async () => {
  backend = createServer((req, res) => {
    seen.push(req);
    answer(req, res);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
});
afterAll(async () => {
  backend.closeAllConnections();
  await new Promise((r) => backend.close(r));
});
beforeEach(() => {
  seen.length = 0;
});

describe.each(['pglite', 'postgres'] as const)('on %s', (kind) => {
  let pgServer: TestPostgres | undefined;
  afterAll(async () => {
    await pgServer?.stop();
  });
  const app = useApp(async () => {
    const db: Record<string, string> = {};
    if (kind === 'postgres') {
      pgServer = await startPostgres();
      db.DATABASE_URL = await pgServer.createDatabase();
      db.ROBOTRACE_SECRET = randomBytes(32).toString('hex');
    }
    return {
      env: {
        ...db,
        // Configured through the environment, as an operator does (the headers must reach the backend only).
        ROBOTRACE_TRACE_SOURCE: `otlp-json:${backendUrl}/traces/{trace_id}?from={start_unix_s}`,
        ROBOTRACE_TRACE_SOURCE_HEADERS: JSON.stringify({ authorization: 'Bearer backend-token-s3cr3t' }),
        ROBOTRACE_TRACE_SOURCE_TIMEOUT_MS: '400',
      },
    };
  });

  /** Every new test case asks a fresh source (no answer cached from the previous case). */
  function freshSource(overrides: Partial<TraceSource['config']> = {}): void {
    const env = app.current.env;
    const s = env.ROBOTRACE_TRACE_SOURCE;
    if (!s) throw new Error('trace source not configured');
    app.current.services.core.traceSource = new TraceSource({
      ...TRACE_SOURCE_DEFAULTS,
      kind: s.kind,
      url: s.url,
      headers: env.ROBOTRACE_TRACE_SOURCE_HEADERS,
      timeoutMs: env.ROBOTRACE_TRACE_SOURCE_TIMEOUT_MS,
      ...overrides,
    });
  }
  beforeEach(() => freshSource());

  interface SpanSpec {
    span: string;
    parent?: string;
    name: string;
    startMs: number;
    endMs: number;
    service?: string;
    error?: string;
  }
  const ns = (ms: number) => String(T0 + BigInt(ms) * 1_000_000n);

  function otlp(trace: string, spans: SpanSpec[]): unknown {
    const services = [...new Set(spans.map((s) => s.service ?? 'robot-runtime'))];
    return {
      resourceSpans: services.map((service) => ({
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: spans
              .filter((s) => (s.service ?? 'robot-runtime') === service)
              .map((s) => ({
                traceId: trace,
                spanId: s.span,
                ...(s.parent ? { parentSpanId: s.parent } : {}),
                name: s.name,
                kind: 1,
                startTimeUnixNano: ns(s.startMs),
                endTimeUnixNano: ns(s.endMs),
                ...(s.error ? { status: { code: 2, message: s.error } } : {}),
                attributes: [{ key: 'robot.arm', value: { stringValue: 'left' } }],
                events: [{ name: 'frame', timeUnixNano: ns(s.startMs + 1) }],
              })),
          },
        ],
      })),
    };
  }

  function serveJson(body: unknown, status = 200): void {
    answer = (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
  }

  async function createEpisode(o: {
    trace?: string;
    span?: string;
    startedAt?: string;
    flags?: string;
    durationS?: number;
  }): Promise<string> {
    const c = app.current.client();
    const created = await c.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      name: 'rollout 7',
      ...(o.trace && o.span ? { otel: { traceparent: `00-${o.trace}-${o.span}-${o.flags ?? '01'}` } } : {}),
      ...(o.startedAt ? { started_at_unix_ns: o.startedAt } : {}),
    });
    expect(created.status).toBe(201);
    const id = created.body.episode_id;
    const done = await c.post(`/api/ingest/episode/${id}/finalize`, {
      status: 'ready',
      duration_s: o.durationS ?? 2,
    });
    expect(done.status).toBe(200);
    return id;
  }

  const getTrace = (id: string, query = '') =>
    app.current.client().get<EpisodeTrace>(`/api/episodes/${id}/trace${query}`);

  describe('GET /api/episodes/{id}/trace', () => {
    it("returns the backend's spans, aligned on the start the SDK sent, and sends the configured headers only to the backend", async () => {
      const trace = hex(16);
      const rollout = hex(8);
      const infer = hex(8);
      serveJson(
        otlp(trace, [
          { span: rollout, name: 'rollout', startMs: 0, endMs: 2000 },
          {
            span: infer,
            parent: rollout,
            name: 'policy.infer',
            startMs: 500,
            endMs: 700,
            service: 'policy',
            error: 'oom',
          },
        ]),
      );
      const id = await createEpisode({ trace, span: rollout, startedAt: ns(100) });
      const r = await getTrace(id);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        status: 'found',
        source: 'otlp-json',
        trace_id: trace,
        span_id: rollout,
        sampled: true,
        truncated: false,
        total_spans: 2,
        cached: false,
        alignment: { anchor: 'client_start', start_unix_ns: ns(100), offset_ms: 0 },
        window: { start_unix_ns: ns(100), end_unix_ns: ns(2100) },
      });
      expect(r.body.spans.map((s) => [s.name, s.service, s.parent_span_id, s.status.code])).toEqual([
        ['rollout', 'robot-runtime', null, 'unset'],
        ['policy.infer', 'policy', rollout, 'error'],
      ]);
      expect(r.body.spans[1]?.events).toEqual([{ name: 'frame', time_unix_ns: ns(501), attributes: {} }]);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.url).toMatch(new RegExp(`^/traces/${trace}\\?from=\\d+$`));
      expect(seen[0]?.headers.authorization).toBe('Bearer backend-token-s3cr3t');
      expect(JSON.stringify(r.body)).not.toContain('s3cr3t');
      expect(app.current.output()).not.toContain('s3cr3t');
      // A second read is the cache: the backend is not asked again.
      const again = await getTrace(id);
      expect(again.body).toMatchObject({ status: 'found', cached: true, fetched_at: r.body.fetched_at });
      expect(seen).toHaveLength(1);
    });

    it("aligns an episode without a start (the official SDK) on its own span, and a user's shift moves the spans", async () => {
      const trace = hex(16);
      const own = hex(8);
      serveJson(otlp(trace, [{ span: own, name: 'episode', startMs: 40, endMs: 1040 }]));
      const id = await createEpisode({ trace, span: own, durationS: 1 });
      const r = await getTrace(id);
      expect(r.body.alignment).toMatchObject({ anchor: 'episode_span', start_unix_ns: ns(40) });
      expect(r.body.alignment.note).toMatch(/episode's own span/);
      const shifted = await getTrace(id, '?offset_ms=250');
      expect(shifted.body.alignment).toMatchObject({
        anchor: 'episode_span',
        start_unix_ns: ns(-210),
        offset_ms: 250,
      });
      expect((await getTrace(id, '?offset_ms=abc')).status).toBe(400);
    });

    it('falls back to created_at − duration when the trace lacks the episode span, and says not_found with the sampled flag', async () => {
      const trace = hex(16);
      answer = (_req, res) => {
        res.writeHead(404).end();
      };
      const id = await createEpisode({ trace, span: hex(8), flags: '00', durationS: 3 });
      const r = await getTrace(id);
      expect(r.body).toMatchObject({
        status: 'not_found',
        sampled: false,
        spans: [],
        alignment: { anchor: 'created_at' },
      });
      expect(r.body.reason).toMatch(/sampled out|expired/);
    });

    it('an episode without trace context, and a server without a trace source, say so in a 200', async () => {
      const bare = await createEpisode({});
      const r = await getTrace(bare);
      expect(r.body).toMatchObject({ status: 'not_found', trace_id: null, spans: [] });
      expect(r.body.reason).toMatch(/no trace context/);
      expect(seen).toHaveLength(0);
      const traced = await createEpisode({ trace: hex(16), span: hex(8) });
      app.current.services.core.traceSource = undefined;
      const off = await getTrace(traced);
      expect(off.body).toMatchObject({ status: 'not_configured', source: null, spans: [] });
    });

    it.each([
      ['a 500', (res: ServerResponse) => res.writeHead(500).end('boom'), /HTTP 500/],
      [
        'HTML',
        (res: ServerResponse) =>
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'),
        /not JSON/,
      ],
      [
        'truncated JSON',
        (res: ServerResponse) => res.writeHead(200).end('{"resourceSpans":[{"resource":'),
        /not JSON/,
      ],
      ['non-OTLP JSON', (res: ServerResponse) => res.writeHead(200).end('{"hello":"world"}'), /neither OTLP/],
      ['a refused connection', null, /cannot reach/],
      ['a stall', (_res: ServerResponse) => {}, /did not answer within 400 ms/],
    ])(
      'the backend answering %s is "unavailable" with a reason, never a 5xx',
      async (_label, reply, reason) => {
        const trace = hex(16);
        const id = await createEpisode({ trace, span: hex(8) });
        if (reply === null) freshSource({ url: 'http://127.0.0.1:9/traces/{trace_id}' });
        else answer = (_req, res) => reply(res);
        const r = await getTrace(id);
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({
          status: 'unavailable',
          spans: [],
          alignment: { anchor: 'created_at' },
        });
        expect(r.body.reason).toMatch(reason);
      },
    );

    it('a 100,000-span trace (a body past 10 MB) comes back as the first spans with truncated', async () => {
      const trace = hex(16);
      const spans: SpanSpec[] = [];
      for (let i = 0; i < 100_000; i++)
        spans.push({
          span: (i + 1).toString(16).padStart(16, '0'),
          name: `step ${i}`,
          startMs: i,
          endMs: i + 1,
        });
      const body = JSON.stringify(otlp(trace, spans));
      expect(body.length).toBeGreaterThan(10 * 1024 * 1024);
      answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      const id = await createEpisode({ trace, span: '0000000000000001' });
      // Reading and normalising 100,000 spans takes longer than this file's 400 ms test timeout.
      freshSource({ timeoutMs: 10_000 });
      const r = await getTrace(id);
      expect(r.body).toMatchObject({ status: 'found', truncated: true, total_spans: 100_000 });
      expect(r.body.spans).toHaveLength(TRACE_SOURCE_DEFAULTS.maxSpans);
      expect(r.body.spans[0]?.name).toBe('step 0');
      // And past the byte bound the answer is refused without being held whole.
      freshSource({ maxBytes: 1024 * 1024 });
      const big = await getTrace(id);
      expect(big.body).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/larger than/) });
    });

    it("another project's episode is a 404; a portal session reads its own project's trace", async () => {
      const trace = hex(16);
      serveJson(otlp(trace, [{ span: '00000000000000aa', name: 'rollout', startMs: 0, endMs: 10 }]));
      const id = await createEpisode({ trace, span: '00000000000000aa' });
      const otherKey = `rt_other_${hex(12)}`;
      await app.current.addProject('other-trace', otherKey);
      const other = await app.current.client(otherKey).get(`/api/episodes/${id}/trace`);
      expect(other.status).toBe(404);
      expect(JSON.stringify(other.body)).not.toContain('rollout');
      expect((await app.current.client().get(`/api/episodes/${hex(4)}/trace`)).status).toBe(404);
      const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
      const res = await fetch(`${app.current.baseUrl}/api/episodes/${id}/trace`, {
        headers: { cookie: user.cookie },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as EpisodeTrace).status).toBe('found');
      expect((await fetch(`${app.current.baseUrl}/api/episodes/${id}/trace`)).status).toBe(401);
    });
  });

  describe('alignment on absolute-time tracks', () => {
    it('an episode with ROS 2 tracks (Unix-epoch _t_ns) starts at their earliest first stamp, whatever else it has', async () => {
      const trace = hex(16);
      const own = hex(8);
      serveJson(otlp(trace, [{ span: own, name: 'episode', startMs: 40, endMs: 1040 }]));
      const id = await createEpisode({ trace, span: own, startedAt: ns(100) });
      const db = app.current.services.dbh.db;
      const [row] = await db.select({ projectId: episode.projectId }).from(episode).where(eq(episode.id, id));
      const track = (name: string, startMs: number, absolute: boolean) => ({
        name,
        topic: name,
        field: 'data',
        columns: [name],
        dtype: '<f8',
        samples: 2,
        data: { in: 'artifact', offset: 0, length: 16 },
        time: {
          data: { in: 'artifact', offset: 0, length: 16 },
          startNs: ns(startMs),
          endNs: ns(startMs + 1000),
          absolute,
        },
        warnings: [],
      });
      for (const [kind, tracks] of [
        ['sensors', [track('/imu', 30, true), track('/relative', -500, false)]],
        ['actions', [track('/cmd', 20, true)]],
      ] as const)
        await db.insert(trackIndex).values({
          episodeId: id,
          artifactKind: kind,
          projectId: row?.projectId ?? '',
          format: 'npz',
          sizeBytes: 16,
          indexedAt: new Date(),
          tracks: [...tracks],
        });
      const r = await getTrace(id);
      expect(r.body.alignment).toMatchObject({ anchor: 'absolute_tracks', start_unix_ns: ns(20) });
      expect(r.body.alignment.note).toMatch(/absolute timestamps/);
    });
  });

  describe('GET /api/traces/{trace_id}', () => {
    it('returns the whole trace with every episode of the project over its window', async () => {
      const trace = hex(16);
      const a = hex(8);
      const b = hex(8);
      serveJson(
        otlp(trace, [
          { span: a, name: 'episode a', startMs: 0, endMs: 1000 },
          { span: b, name: 'episode b', startMs: 3000, endMs: 5000 },
        ]),
      );
      const first = await createEpisode({ trace, span: a, startedAt: ns(0), durationS: 1 });
      const second = await createEpisode({ trace, span: b, durationS: 2 });
      const r = await app.current.client().get<TraceOverview>(`/api/traces/${trace}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'found', trace_id: trace, total_spans: 2 });
      expect(r.body.episodes).toEqual([
        expect.objectContaining({
          id: first,
          anchor: 'client_start',
          start_unix_ns: ns(0),
          end_unix_ns: ns(1000),
        }),
        expect.objectContaining({
          id: second,
          anchor: 'episode_span',
          start_unix_ns: ns(3000),
          end_unix_ns: ns(5000),
        }),
      ]);
      const upper = await app.current.client().get<TraceOverview>(`/api/traces/${trace.toUpperCase()}`);
      expect(upper.body).toMatchObject({ status: 'found', trace_id: trace });
      expect((await app.current.client().get(`/api/traces/${hex(16)}`)).status).toBe(404);
      expect((await app.current.client().get(`/api/traces/${hex(15)}`)).status).toBe(404);
      const otherKey = `rt_other2_${hex(12)}`;
      await app.current.addProject('other-trace-2', otherKey);
      expect((await app.current.client(otherKey).get(`/api/traces/${trace}`)).status).toBe(404);
    });
  });

  describe('the create body', () => {
    it('keeps started_at_unix_ns and refuses one that is not decimal nanoseconds', async () => {
      const bad = await app.current
        .client()
        .post('/api/ingest/episode', { source: 'sim', started_at_unix_ns: '17e17' });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toMatch(/started_at_unix_ns/);
    });
  });
});
