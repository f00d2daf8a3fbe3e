import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RoboTrace } from '../../src/client.js';
import { DEFAULT_TIMEOUT_MS, DEFAULT_UPLOAD_TIMEOUT_MS } from '../../src/config.js';
import * as errors from '../../src/errors.js';
import {
  BASE_DELAY_MS,
  DEFAULT_MAX_RETRIES,
  isRetryableStatus,
  MAX_BACKOFF_MS,
  MAX_RETRY_AFTER_S,
  parseRetryAfter,
  retryDelayMs,
} from '../../src/http/retry.js';
import { retryTiming } from '../../src/http/transport.js';
import * as sdk from '../../src/index.js';
import { type Answer, behaviour, type Call, expand } from '../support/behaviour.js';
import {
  BASE,
  created,
  episodeJson,
  fakeFetch,
  json,
  KEY,
  type RecordedRequest,
} from '../support/fake-fetch.js';

// Every case of spec/sdk-behaviour-vectors.json against the TypeScript SDK; sdk/python runs the same file.

let video: string;
beforeAll(() => {
  video = join(mkdtempSync(join(tmpdir(), 'rt-behaviour-')), 'run.mp4');
  writeFileSync(video, Buffer.alloc(4096, 7));
});
afterEach(() => {
  vi.restoreAllMocks();
});

function routeOf(request: RecordedRequest): Call | 'other' {
  const { pathname } = new URL(request.url);
  if (request.method === 'PUT') return 'upload';
  if (request.method === 'GET' && pathname.startsWith('/api/episodes/')) return 'get';
  if (pathname === '/api/ingest/episode') return 'create';
  if (pathname.endsWith('/finalize')) return 'finalize';
  if (pathname.endsWith('/upload-url')) return 'upload_url';
  return 'other';
}

const errorBody = (status: number, code = `code_${status}`) => ({
  error: `the server says ${status}`,
  code,
  details: null,
  request_id: `req_${status}`,
});

function answer(scripted: Answer, init: RequestInit): Response | Promise<Response> {
  if (scripted === 'network') {
    throw new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    });
  }
  if (scripted === 'timeout') {
    // No answer: only the SDK's own timer (aborting the signal) ends this attempt.
    return new Promise<Response>((_resolve, reject) => {
      init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
    });
  }
  if (typeof scripted === 'number') return json(scripted, errorBody(scripted));
  return json(scripted.status, errorBody(scripted.status), { 'retry-after': scripted.retry_after });
}

/** A fake server whose `call` route answers `answers` in turn, then succeeds like the real one. */
function scriptedServer(call: Call, answers: Answer[], statusCode?: string) {
  const queue = [...answers];
  const expired = call === 'upload_url'; // an expired slot makes the upload ask for a fresh URL first
  const seen = fakeFetch(() => new Response(null, { status: 599 }));
  const fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const response = await seen(input, init);
    if (response.status !== 599) return response;
    const request = seen.requests.at(-1) as RecordedRequest;
    const route = routeOf(request);
    if (route === call) {
      const next = queue.shift();
      if (next !== undefined) {
        if (statusCode && typeof next === 'number') return json(next, errorBody(next, statusCode));
        return answer(next, init);
      }
    }
    if (route === 'create') return created('ep-1', ['video'], expired ? '2000-01-01T00:00:00Z' : undefined);
    if (route === 'upload') return new Response(null, { status: 200 });
    if (route === 'upload_url') {
      return json(200, {
        kind: 'video',
        url: `${BASE}/upload/ep-1/video?sig=fresh`,
        expires_at: '2030-01-01T00:00:00Z',
      });
    }
    if (route === 'finalize') return json(200, episodeJson('ep-1', 'ready'));
    return json(200, episodeJson('ep-1', 'recording'));
  }) as typeof globalThis.fetch;
  const attempts = () => seen.requests.filter((r) => routeOf(r) === call);
  return { fetch, attempts };
}

/** Makes one logical `call` the way a user would; settles with the error it threw, or undefined. */
async function perform(rt: RoboTrace, call: Call): Promise<unknown> {
  try {
    if (call === 'get') {
      await rt.getEpisode('ep-1');
      return undefined;
    }
    const episode = await rt.startEpisode({ source: 'sim', artifacts: ['video'] });
    if (call === 'finalize') await episode.finish();
    if (call === 'upload' || call === 'upload_url') await episode.upload('video', video);
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * Runs one case. The waits between attempts are recorded, not waited (the backoff's random draw is the case's,
 * 0 by default); a "timeout" answer waits for the SDK's real timer, so those cases use a short API timeout.
 */
async function run(call: Call, answers: Answer[], maxRetries?: number, statusCode?: string, random = 0) {
  const waitsMs: number[] = [];
  vi.spyOn(retryTiming, 'sleep').mockImplementation(async (ms) => {
    waitsMs.push(ms);
  });
  vi.spyOn(Math, 'random').mockReturnValue(random);
  const server = scriptedServer(call, answers, statusCode);
  const rt = new RoboTrace({
    apiKey: KEY,
    baseUrl: BASE,
    fetch: server.fetch,
    env: {},
    quiet: true,
    ...(answers.includes('timeout') ? { timeoutMs: 200 } : {}),
    ...(maxRetries === undefined ? {} : { maxRetries }),
  });
  return { error: await perform(rt, call), waitsMs, ...server };
}

const classNamed = (name: string) =>
  (errors as Record<string, unknown>)[name] as typeof errors.RobotraceError;

describe('defaults', () => {
  it('are those of the spec', () => {
    expect(DEFAULT_MAX_RETRIES).toBe(behaviour.defaults.max_retries);
    expect(DEFAULT_TIMEOUT_MS).toBe(behaviour.defaults.api_timeout_s * 1000);
    expect(DEFAULT_UPLOAD_TIMEOUT_MS).toBe(behaviour.defaults.upload_idle_timeout_s * 1000);
    expect(BASE_DELAY_MS).toBe(behaviour.backoff.base_s * 1000);
    expect(MAX_BACKOFF_MS).toBe(behaviour.backoff.cap_s * 1000);
    expect(MAX_RETRY_AFTER_S).toBe(behaviour.retry_after.cap_s);
  });

  it('retry exactly the listed statuses', () => {
    const [low, high] = behaviour.retry.retried_status_range;
    for (let status = 400; status < 600; status++) {
      const listed = behaviour.retry.retried_statuses.includes(status) || (status >= low && status <= high);
      expect(isRetryableStatus(status), String(status)).toBe(listed);
    }
  });
});

describe('maxRetries option', () => {
  it.each([-1, 1.5, Number.NaN])('refuses %s with a ConfigurationError', (maxRetries) => {
    expect(() => new RoboTrace({ apiKey: KEY, baseUrl: BASE, env: {}, maxRetries })).toThrow(
      errors.ConfigurationError,
    );
  });
});

describe('error tree', () => {
  it.each(Object.entries(behaviour.errors.tree))('%s extends %s and is exported', (name, parent) => {
    const Class = classNamed(name);
    expect((sdk as Record<string, unknown>)[name]).toBe(Class);
    expect(Class.name).toBe(name);
    const expectedParent = parent === null ? Error : classNamed(parent);
    expect(Object.getPrototypeOf(Class)).toBe(expectedParent);
  });

  it.each(behaviour.errors.status_cases.map((c) => [`${c.status} ${c.code}`, c] as const))(
    '%s → the spec class, with the server fields',
    async (_name, c) => {
      const { error } = await run('get', Array(DEFAULT_MAX_RETRIES + 1).fill(c.status), undefined, c.code);
      expect(error).toBeInstanceOf(classNamed(c.class));
      expect(error).toMatchObject({
        name: c.class,
        status: c.status,
        code: c.code,
        requestId: `req_${c.status}`,
      });
    },
  );
});

describe('retries', () => {
  it.each(behaviour.retry.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { error, attempts } = await run(c.call, c.answers, c.max_retries);
    expect(attempts()).toHaveLength(c.expect.attempts);
    if (c.expect.error === null) expect(error).toBeUndefined();
    else {
      expect(error).toBeInstanceOf(classNamed(c.expect.error));
      expect((error as Error).name).toBe(c.expect.error);
    }
  });

  it.each(behaviour.retry.wait_cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { error, attempts, waitsMs } = await run(c.call, c.answers, undefined, undefined, c.random);
    expect(error).toBeUndefined();
    expect(attempts()).toHaveLength(c.expect.attempts);
    expect(waitsMs.map((ms) => ms / 1000)).toEqual(c.expect.waits_s);
  });
});

describe('backoff', () => {
  it.each(behaviour.backoff.cases.map((c) => [`${c.failed_attempts} × ${c.random}`, c] as const))(
    'after %s',
    (_name, c) => {
      expect(retryDelayMs(c.failed_attempts, undefined, () => c.random) / 1000).toBeCloseTo(c.expect_s, 9);
    },
  );
});

describe('Retry-After', () => {
  const now = Date.parse(behaviour.retry_after.now);
  it.each(behaviour.retry_after.cases.map((c) => [JSON.stringify(c.header), c] as const))(
    '%s',
    (_name, c) => {
      expect(parseRetryAfter(c.header, now)).toBe(c.expect_s ?? undefined);
    },
  );
});

describe('Idempotency-Key', () => {
  it.each(behaviour.idempotency.cases.map((c) => [c.call, c] as const))('%s', async (_name, c) => {
    const { error, attempts } = await run(c.call, c.answers);
    expect(error).toBeUndefined();
    const keys = attempts().map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(c.answers.length + 1);
    if (c.key === 'absent') expect(keys.every((k) => k === undefined)).toBe(true);
    else {
      expect(new Set(keys).size).toBe(1);
      expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('is a fresh key for every logical call', async () => {
    const { fetch, attempts } = scriptedServer('create', []);
    const rt = new RoboTrace({ apiKey: KEY, baseUrl: BASE, fetch, env: {}, quiet: true });
    await rt.startEpisode({ artifacts: [] });
    await rt.startEpisode({ artifacts: [] });
    const [first, second] = attempts().map((r) => r.headers['idempotency-key']);
    expect(first).not.toBe(second);
  });
});

describe('argument checks', () => {
  const camel = (field: string) => field.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  it.each(
    behaviour.arguments.cases.map((c) => {
      const value = expand(c.value);
      const size = typeof value === 'string' ? `${[...value].length} chars` : `${c.bytes} bytes`;
      return [`${c.call} ${c.field}: ${size} → ${c.ok ? 'ok' : 'ArgumentError'}`, c, value] as const;
    }),
  )('%s', async (_name, c, value) => {
    if (c.bytes !== undefined) expect(Buffer.byteLength(JSON.stringify(value))).toBe(c.bytes);
    const { fetch, attempts } = scriptedServer(c.call, []);
    const rt = new RoboTrace({ apiKey: KEY, baseUrl: BASE, fetch, env: {}, quiet: true });
    const outcome =
      c.call === 'create'
        ? rt.startEpisode({ artifacts: [], [camel(c.field)]: value })
        : rt
            .startEpisode({ artifacts: [] })
            .then((episode) => episode.finish({ metadata: value as sdk.JsonObject }));
    const error = await outcome.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (c.ok) {
      expect(error).toBeUndefined();
      expect(attempts()).toHaveLength(1);
    } else {
      expect(error).toBeInstanceOf(errors.ArgumentError);
      expect(attempts()).toHaveLength(0); // checked before any request: nothing half-created
    }
  });
});
