import { afterEach, describe, expect, it, vi } from 'vitest';
import { RoboTrace } from '../../src/client.js';
import { ServerError, TimeoutError, TransportError, ValidationError } from '../../src/errors.js';
import { MAX_RETRY_AFTER_S, parseRetryAfter, retryDelayMs } from '../../src/http/retry.js';
import { BASE, created, episodeJson, fakeFetch, type Handler, json, KEY } from '../support/fake-fetch.js';

const client = (handler: Handler, timeoutMs?: number) => {
  const fetch = fakeFetch(handler);
  return { fetch, rt: new RoboTrace({ apiKey: KEY, baseUrl: BASE, fetch, env: {}, quiet: true, timeoutMs }) };
};

const serverError = (status: number, headers: Record<string, string> = {}) =>
  json(status, { error: 'database is restarting', code: 'unavailable', request_id: 'req_503' }, headers);

/** Create attempts answered by `answers` in turn (then 201); finalize always 200. */
const createAnswers = (...answers: Array<() => Response>): Handler => {
  let creates = 0;
  return (request) => {
    if (request.url.endsWith('/finalize')) return json(200, episodeJson('ep-1', 'ready'));
    return answers[creates++]?.() ?? created('ep-1', []);
  };
};

afterEach(() => {
  vi.useRealTimers();
});

describe('retries', () => {
  it('retries 503 and 408, reusing one Idempotency-Key for the create, and logs the episode once', async () => {
    const { rt, fetch } = client(
      createAnswers(
        () => serverError(503, { 'retry-after': '0' }),
        () => json(408, { error: 'timeout' }, { 'retry-after': '0' }),
      ),
    );
    const episode = await rt.logEpisode({ name: 'retry me', source: 'sim' });
    expect(episode.status).toBe('ready');
    const creates = fetch.requests.filter((r) => r.url.endsWith('/api/ingest/episode'));
    expect(creates).toHaveLength(3);
    const keys = new Set(creates.map((r) => r.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
    const finalize = fetch.requests.find((r) => r.url.endsWith('/finalize'));
    expect(finalize?.headers['idempotency-key']).toBeDefined();
    expect(finalize?.headers['idempotency-key']).not.toBe([...keys][0]);
  });

  it('gives up after 4 attempts with a ServerError carrying the server message, code and request id', async () => {
    const { rt, fetch } = client(() => serverError(500, { 'retry-after': '0' }));
    const error = await rt.logEpisode({ source: 'sim' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({
      status: 500,
      message: 'database is restarting',
      code: 'unavailable',
      requestId: 'req_503',
    });
    expect(fetch.requests).toHaveLength(4);
  });

  it('does not retry a 400', async () => {
    const { rt, fetch } = client(() =>
      json(400, { error: 'seed: expected an integer', code: 'validation_error', request_id: 'r' }),
    );
    await expect(rt.logEpisode({ source: 'sim' })).rejects.toBeInstanceOf(ValidationError);
    expect(fetch.requests).toHaveLength(1);
  });

  it('retries network errors and then succeeds', async () => {
    vi.useFakeTimers();
    const refused = () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      });
    };
    const { rt, fetch } = client(createAnswers(refused, refused));
    const logged = rt.logEpisode({ source: 'sim' });
    await vi.runAllTimersAsync();
    await expect(logged).resolves.toMatchObject({ id: 'ep-1', status: 'ready' });
    expect(fetch.requests.filter((r) => r.url.endsWith('/episode'))).toHaveLength(3);
  });

  it('reports a refused connection as a TransportError naming the cause', async () => {
    vi.useFakeTimers();
    const { rt, fetch } = client(() => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      });
    });
    const logged = rt.logEpisode({ source: 'sim' }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const error = await logged;
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toMatch(/create episode: ECONNREFUSED/);
    expect(fetch.requests).toHaveLength(4);
  });

  it('bounds every attempt by timeoutMs and ends with a TimeoutError', async () => {
    vi.useFakeTimers();
    const hang: Handler = () => new Promise<Response>(() => undefined);
    const fetch = fakeFetch(hang);
    // The fake fetch never answers; the SDK's per-attempt timer aborts it.
    const abortable = ((url: string, init: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        void fetch(url, init);
      })) as typeof globalThis.fetch;
    const rt = new RoboTrace({
      apiKey: KEY,
      baseUrl: BASE,
      fetch: abortable,
      env: {},
      quiet: true,
      timeoutMs: 2_000,
    });
    const started = Date.now();
    const logged = rt.logEpisode({ source: 'sim' }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const error = await logged;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/no answer within 2000 ms/);
    expect(fetch.requests).toHaveLength(4);
    // 4 × 2 s of attempts plus at most 1 + 2 + 4 s of backoff: bounded.
    expect(Date.now() - started).toBeLessThanOrEqual(4 * 2_000 + 7_000);
  });

  it('waits what Retry-After says, capped at 30 s', async () => {
    vi.useFakeTimers();
    const times: number[] = [];
    const { rt } = client((request, index) => {
      times.push(Date.now());
      if (request.url.endsWith('/finalize')) return json(200, episodeJson('ep-1', 'ready'));
      if (index === 0)
        return json(
          429,
          { error: 'slow down', code: 'rate_limited', request_id: 'r' },
          { 'retry-after': '7' },
        );
      if (index === 1) return json(503, { error: 'busy' }, { 'retry-after': '120' });
      return created('ep-1', []);
    });
    const logged = rt.logEpisode({ source: 'sim' });
    await vi.runAllTimersAsync();
    await logged;
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBe(7_000);
    expect((times[2] ?? 0) - (times[1] ?? 0)).toBe(MAX_RETRY_AFTER_S * 1000);
  });
});

describe('backoff policy', () => {
  it('uses full jitter under an exponential ceiling of 1 s, 2 s, 4 s', () => {
    expect(retryDelayMs(1, undefined, () => 0)).toBe(0);
    expect(retryDelayMs(1, undefined, () => 0.999)).toBeLessThan(1_000);
    expect(retryDelayMs(2, undefined, () => 0.999)).toBeLessThan(2_000);
    expect(retryDelayMs(3, undefined, () => 0.999)).toBeLessThan(4_000);
    expect(retryDelayMs(3, undefined, () => 0.5)).toBe(2_000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3);
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:05 GMT', now)).toBe(5);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
