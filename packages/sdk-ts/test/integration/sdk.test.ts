import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../../../../test/support/server.js';
import { RoboTrace, type RoboTraceClientOptions } from '../../src/client.js';
import { demoVideo } from '../../src/demo/video.js';
import { AuthError, ConflictError, NotFoundError } from '../../src/errors.js';
import { installContextManager, withSpan } from '../support/otel.js';
import { serverApi } from '../support/server-api.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';
const SAMPLED = { trace_id: T, span_id: S, trace_flags: 1, trace_state: '' };
const dir = mkdtempSync(join(tmpdir(), 'robotrace-sdk-it-'));
const video = join(dir, 'rollout.mp4');
const sensors = join(dir, 'imu.npy');
writeFileSync(video, demoVideo());
writeFileSync(sensors, Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)));

let server: TestServer;
let api: ReturnType<typeof serverApi>;
const client = (options: RoboTraceClientOptions = {}) =>
  new RoboTrace({ apiKey: server.apiKey, baseUrl: server.baseUrl, env: {}, quiet: true, ...options });
const uniqueTrace = () => ({
  ...SAMPLED,
  trace_id: `${Date.now().toString(16).padStart(16, '0')}${T.slice(16)}`,
});

beforeAll(async () => {
  installContextManager();
  // The shortest upload URL lifetime the server allows, so a run that outlives its URL plays out quickly.
  server = await startServer({ env: { ROBOTRACE_UPLOAD_URL_TTL_S: '10' } });
  api = serverApi(server.baseUrl, server.apiKey);
});
afterAll(() => server?.stop());

describe('trace correlation against the real server', () => {
  it('an episode logged inside a real span carries exactly that span (top level and metadata.otel)', async () => {
    const span = { ...SAMPLED, trace_state: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' };
    const episode = await withSpan(span, () =>
      client().logEpisode({ name: 'in span', source: 'sim', video }),
    );
    const stored = await api.episode(episode.id);
    const block = {
      trace_id: T,
      span_id: S,
      traceparent: `00-${T}-${S}-01`,
      tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    };
    expect(stored.otel).toEqual(block);
    expect(stored.metadata.otel).toEqual(block);
    expect(stored.status).toBe('ready');
  });

  it('without a span there is no otel block at all', async () => {
    const episode = await client().logEpisode({ name: 'no span', source: 'sim' });
    const stored = await api.episode(episode.id);
    expect(stored.otel).toBeNull();
    expect(stored.metadata).not.toHaveProperty('otel');
  });

  it('an unsampled span is attached with flags 00; respectSampled drops it', async () => {
    const unsampled = { ...SAMPLED, trace_flags: 0 };
    const attached = await withSpan(unsampled, () => client().logEpisode({ source: 'sim' }));
    expect((await api.episode(attached.id)).otel?.traceparent).toBe(`00-${T}-${S}-00`);
    const dropped = await withSpan(unsampled, () =>
      client({ otel: { respectSampled: true } }).logEpisode({ source: 'sim' }),
    );
    expect((await api.episode(dropped.id)).otel).toBeNull();
  });

  it('startEpisode in span A, finished inside span B, keeps A', async () => {
    const a = { ...SAMPLED, span_id: 'aaaaaaaaaaaaaaaa' };
    const b = { ...SAMPLED, trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'bbbbbbbbbbbbbbbb' };
    const episode = await withSpan(a, () =>
      client().startEpisode({ name: 'across spans', source: 'real', artifacts: ['video'] }),
    );
    await withSpan(b, async () => {
      await episode.uploadVideo(video);
      await episode.finish({ metadata: { note: 'finished in B' } });
    });
    const stored = await api.episode(episode.id);
    expect(stored.otel).toMatchObject({ trace_id: T, span_id: 'aaaaaaaaaaaaaaaa' });
    expect(stored.metadata).toMatchObject({ note: 'finished in B', otel: { span_id: 'aaaaaaaaaaaaaaaa' } });
  });

  it('linkSpan writes the episode id and URL onto the span', async () => {
    const { episode, attributes } = await withSpan(SAMPLED, async (span) => {
      const episode = await client({ otel: { linkSpan: true } }).logEpisode({ source: 'sim' });
      return { episode, attributes: (span as unknown as ReadableSpan).attributes };
    });
    expect(attributes).toEqual({ 'robotrace.episode_id': episode.id, 'robotrace.episode_url': episode.url });
    expect(episode.url).toBe(`${server.baseUrl}/portal/episodes/${episode.id}`);
  });

  it('a trace context the server rejects becomes a warning, never a failed episode', async () => {
    const bad = { trace_id: T.toUpperCase(), span_id: S };
    const episode = await client().logEpisode({ source: 'sim', metadata: { otel: bad } });
    expect(episode.status).toBe('ready');
    expect(episode.warnings.length).toBeGreaterThan(0);
    expect((await api.episode(episode.id)).otel).toBeNull();
  });

  it('the episodes of a trace are listed by trace id and by span id', async () => {
    const span = uniqueTrace();
    const episode = await withSpan(span, () => client().logEpisode({ name: 'findable', source: 'sim' }));
    const rt = client();
    expect((await rt.listEpisodes({ trace_id: span.trace_id })).data.map((e) => e.id)).toEqual([episode.id]);
    const bySpan = await rt.listEpisodes({ trace_id: span.trace_id, span_id: span.span_id });
    expect(bySpan.data.map((e) => e.id)).toEqual([episode.id]);
  });
});

describe('uploads and runs against the real server', () => {
  it('video and sensors round-trip byte for byte through the 302 to the signed URL', async () => {
    const episode = await client().logEpisode({ name: 'round trip', source: 'sim', video, sensors, fps: 15 });
    const stored = await api.episode(episode.id);
    expect(stored.bytes_total).toBe(readFileSync(video).length + readFileSync(sensors).length);
    expect(
      stored.artifacts
        .filter((a) => a.uploaded)
        .map((a) => a.kind)
        .sort(),
    ).toEqual(['sensors', 'video']);
    const downloaded = await api.artifact(episode.id, 'video');
    expect(downloaded.redirect).toBe(302);
    expect(downloaded.bytes.equals(readFileSync(video))).toBe(true);
    expect((await api.artifact(episode.id, 'sensors')).bytes.equals(readFileSync(sensors))).toBe(true);
  });

  it('a failed run is stored failed with its reason and failure time', async () => {
    const logged = await client().logEpisode({
      source: 'real',
      video,
      status: 'failed',
      failureReason: 'gripper slipped',
      failureTimeS: 0.5,
    });
    const stored = await api.episode(logged.id);
    expect(stored).toMatchObject({
      status: 'failed',
      failure_time_s: 0.5,
      metadata: { failure_reason: 'gripper slipped' },
    });

    const started = await client().startEpisode({ source: 'sim' });
    await started.fail(new Error('policy diverged'));
    expect(await api.episode(started.id)).toMatchObject({
      status: 'failed',
      metadata: { failure_reason: 'policy diverged' },
    });
  });

  it('a create whose answer is lost is retried with the same Idempotency-Key: one episode, not two', async () => {
    let dropped = false;
    // The request reaches the server, but the client never sees the answer (a connection reset after the fact).
    const lossy = (async (input: string | URL | Request, init?: RequestInit) => {
      const response = await fetch(input, init);
      if (!dropped && String(input).endsWith('/api/ingest/episode')) {
        dropped = true;
        await response.text();
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
        });
      }
      return response;
    }) as typeof fetch;
    const name = `lost answer ${Date.now()}`;
    const episode = await client({ fetch: lossy }).logEpisode({ name, source: 'sim' });
    expect(dropped).toBe(true);
    const named = (await api.list({ limit: '200' })).data.filter((e) => e.name === name);
    expect(named.map((e) => e.id)).toEqual([episode.id]);
  });

  it('server errors arrive as the typed errors with request ids', async () => {
    const badKey = client({ apiKey: 'rt_wrong_0123456789abcdefghijklmnop' });
    const auth = await badKey.logEpisode({ source: 'sim' }).catch((e: unknown) => e);
    expect(auth).toBeInstanceOf(AuthError);
    expect((auth as AuthError).requestId).toBeTruthy();

    await expect(client().getEpisode('0b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69')).rejects.toBeInstanceOf(
      NotFoundError,
    );

    const episode = await client().startEpisode({ source: 'sim' });
    await episode.finish();
    await expect(episode.fail('too late')).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('an episode that outlives its signed upload URL', () => {
  it('uploads through a fresh URL and round-trips the bytes', async () => {
    const episode = await client().startEpisode({ name: 'long run', source: 'real', artifacts: ['video'] });
    const [slot] = episode.uploadUrls;
    // Let the run "take" longer than the URL lives (this wait sets up the case; nothing is timed).
    await delay(Math.max(0, Date.parse(slot?.expires_at ?? '') - Date.now()) + 1_500);

    const stale = await fetch(slot?.url ?? '', {
      method: 'PUT',
      body: 'x',
      headers: { 'content-type': 'video/mp4' },
    });
    expect(stale.status).toBe(403);
    expect(await stale.json()).toMatchObject({ code: 'url_expired' });

    await episode.uploadVideo(video);
    await episode.finish();
    expect(episode.uploadUrls[0]?.url).not.toBe(slot?.url);
    const downloaded = await api.artifact(episode.id, 'video');
    expect(downloaded.bytes.equals(readFileSync(video))).toBe(true);
  });
});

describe('the start on this machine’s clock (started_at_unix_ns, issue 15)', () => {
  const nowNs = () => BigInt(Date.now()) * 1_000_000n;
  /** The server keeps it as the episode's client start: the trace alignment's anchor (no trace source needed). */
  const alignment = async (id: string) => {
    const answer = await fetch(`${server.baseUrl}/api/episodes/${id}/trace`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    expect(answer.status).toBe(200);
    const { alignment } = (await answer.json()) as { alignment: { anchor: string; start_unix_ns: string } };
    return { anchor: alignment.anchor, start: BigInt(alignment.start_unix_ns) };
  };
  const within = (value: bigint, low: bigint, high: bigint) => value >= low && value <= high;

  it('startEpisode sends the moment it started; logEpisode now − durationS, and nothing without one', async () => {
    const before = nowNs();
    const started = await withSpan(uniqueTrace(), () =>
      client().startEpisode({ name: 'start', artifacts: [] }),
    );
    const after = nowNs();
    await started.finish();
    const a = await alignment(started.id);
    expect(a.anchor).toBe('client_start');
    expect(within(a.start, before, after)).toBe(true);

    const loggedBefore = nowNs();
    const logged = await withSpan(uniqueTrace(), () => client().logEpisode({ name: 'log', durationS: 7.25 }));
    const loggedAfter = nowNs();
    const b = await alignment(logged.id);
    expect(b.anchor).toBe('client_start');
    expect(within(b.start, loggedBefore - 7_250_000_000n, loggedAfter - 7_250_000_000n)).toBe(true);

    const bare = await withSpan(uniqueTrace(), () => client().logEpisode({ name: 'no duration' }));
    expect((await alignment(bare.id)).anchor).not.toBe('client_start');
  });

  it('a spooled episode keeps the start of the call, not of its delivery', async () => {
    const spoolDir = join(dir, `spool-${Date.now()}`);
    const robot = `ts-started-${Date.now()}`;
    const background = (baseUrl: string) =>
      client({
        baseUrl,
        delivery: 'background',
        spoolDir,
        flushTimeoutMs: 0,
        maxRetries: 0,
        logger: { warn: () => undefined },
      });
    // Nothing listens on a port just freed: the record stays in the spool until the next client.
    const port = await new Promise<number>((done) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => done(port));
      });
    });
    const offline = background(`http://127.0.0.1:${port}`);
    const before = nowNs();
    await withSpan(uniqueTrace(), () => offline.logEpisode({ name: 'spooled', robot, durationS: 2.5 }));
    await offline.close();
    // Its last attempt may still hold the record's claim (this process's): wait until it lets go.
    for (let i = 0; i < 600 && readdirSync(join(spoolDir, 'v1', 'claims')).length > 0; i++) await delay(50);
    const spooledBy = nowNs(); // nothing has reached a server yet

    const online = background(server.baseUrl);
    expect(await online.flush(60_000)).toBe(true);
    await online.close();
    const [stored] = (await api.list({ robot })).data;
    const a = await alignment(stored?.id ?? '');
    expect(a.anchor).toBe('client_start');
    expect(within(a.start, before - 2_500_000_000n, spooledBy - 2_500_000_000n)).toBe(true);
  });
});
