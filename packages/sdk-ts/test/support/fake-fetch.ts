/** A scripted `fetch` for unit tests: records every request (body bytes included) and answers from a handler. */
export interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
  json: () => unknown;
}

export type Handler = (request: RecordedRequest, index: number) => Response | Promise<Response>;

export function fakeFetch(handler: Handler): typeof fetch & { requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const fn = async (input: string | URL | Request, init: RequestInit = {}) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const body = await readBody(init.body);
    const request: RecordedRequest = {
      url: String(input),
      method: init.method ?? 'GET',
      headers,
      body,
      json: () => JSON.parse(body.toString('utf8')),
    };
    requests.push(request);
    if (init.signal?.aborted) throw init.signal.reason;
    return handler(request, requests.length - 1);
  };
  return Object.assign(fn as typeof fetch, { requests });
}

async function readBody(body: RequestInit['body']): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof ReadableStream) {
    const chunks: Buffer[] = [];
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read())
      chunks.push(Buffer.from(next.value));
    return Buffer.concat(chunks);
  }
  throw new Error(`fake fetch cannot read a ${typeof body} body`);
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export const BASE = 'http://robotrace.test';
export const KEY = 'rt_unit_0123456789abcdefghij';

export function created(id = 'ep-1', kinds: string[] = ['video'], expiresAt = '2030-01-01T00:00:00Z') {
  return json(201, {
    episode_id: id,
    status: 'recording',
    storage: 'local',
    upload_urls: kinds.map((kind) => ({
      kind,
      url: `${BASE}/upload/${id}/${kind}?sig=x`,
      expires_at: expiresAt,
    })),
    portal_url: `${BASE}/portal/episodes/${id}`,
    warnings: [],
  });
}

export function episodeJson(id: string, status: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    episode_id: id,
    name: null,
    source: 'sim',
    status,
    robot: null,
    policy_version: null,
    env_version: null,
    git_sha: null,
    seed: null,
    fps: null,
    duration_s: null,
    failure_time_s: null,
    bytes_total: null,
    metadata: {},
    otel: null,
    artifacts: [],
    created_at: '2026-11-24T10:00:00.000Z',
    finalized_at: null,
    portal_url: `${BASE}/portal/episodes/${id}`,
    ...extra,
  };
}

/**
 * A fake ingest server good enough for client logic: create → upload → finalize, recording everything.
 * `overrides` can replace the answer to the Nth request.
 */
export function ingestFake(overrides: Record<number, () => Response> = {}) {
  return fakeFetch((request, index) => {
    const override = overrides[index];
    if (override) return override();
    const url = new URL(request.url);
    if (request.method === 'POST' && url.pathname === '/api/ingest/episode') {
      const body = request.json() as { request_uploads: string[] };
      return created('ep-1', body.request_uploads);
    }
    if (request.method === 'PUT') return new Response(null, { status: 200 });
    const refresh = /^\/api\/ingest\/episode\/([^/]+)\/upload-url$/.exec(url.pathname);
    if (request.method === 'POST' && refresh?.[1]) {
      const { kind } = request.json() as { kind: string };
      const fresh = `${BASE}/upload/${refresh[1]}/${kind}?sig=fresh`;
      return json(200, { kind, url: fresh, expires_at: '2030-01-01T00:00:00Z' });
    }
    const finalize = /^\/api\/ingest\/episode\/([^/]+)\/finalize$/.exec(url.pathname);
    if (request.method === 'POST' && finalize?.[1]) {
      const body = request.json() as { status: string };
      return json(200, episodeJson(finalize[1], body.status));
    }
    return json(404, { error: 'not found', code: 'not_found', request_id: 'req_x' });
  });
}
