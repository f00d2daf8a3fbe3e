import type { CreateEpisodeResponse } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../../test/support/api.js';
import { startServer, type TestServer } from '../../../../test/support/server.js';

/**
 * Fault: overload. Slow clients hold every upload slot, then every in-flight slot. The next request is told
 * at once — 503 with Retry-After — instead of queueing into a timeout; once the slow ones finish, service
 * resumes. (The database pool running dry is faults-postgres.test.ts: a stalled PostgreSQL.)
 */
const SLOTS = 2;
const INFLIGHT = 4;
const QUICK_MS = 3_000; // "at once", with a generous margin for a busy CI machine

/** A request whose body arrives in two parts, the second when released: it stays in flight until then. */
function slowRequest(url: string, type: string, first: Uint8Array, second: Uint8Array, apiKey?: string) {
  let release = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(first);
      await gate;
      controller.enqueue(second);
      controller.close();
    },
  });
  const response = fetch(url, {
    method: apiKey ? 'POST' : 'PUT',
    body,
    headers: { 'content-type': type, ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    duplex: 'half',
  } as RequestInit);
  return { release, response };
}

async function timed(p: Promise<Response>) {
  const t0 = Date.now();
  const res = await p;
  const body = (await res.json()) as { code?: string };
  return {
    status: res.status,
    code: body.code,
    retryAfter: res.headers.get('retry-after'),
    ms: Date.now() - t0,
  };
}

const settle = () => new Promise((r) => setTimeout(r, 500));

describe('fault: overload (upload slots and in-flight requests exhausted)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({
      env: { ROBOTRACE_MAX_CONCURRENT_UPLOADS: String(SLOTS), ROBOTRACE_MAX_INFLIGHT: String(INFLIGHT) },
    });
  });
  afterAll(() => server?.stop());

  it('answers 503 with Retry-After at once, then serves again when the slow clients finish', async () => {
    const client = api(server.baseUrl, server.apiKey);
    const urls: string[] = [];
    for (let i = 0; i < SLOTS + 2; i++) {
      const r = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
        source: 'sim',
        request_uploads: ['video'],
      });
      urls.push(r.body.upload_urls[0]?.url ?? '');
    }
    const put = (url: string) =>
      fetch(url, { method: 'PUT', body: new Uint8Array(10), headers: { 'content-type': 'video/mp4' } });

    // Every upload slot taken by a slow client: the next upload is refused at once.
    const uploads = urls
      .slice(0, SLOTS)
      .map((u) => slowRequest(u, 'video/mp4', new Uint8Array(1024), new Uint8Array(1024)));
    await settle();
    const refusedUpload = await timed(put(urls[SLOTS] ?? ''));
    expect(refusedUpload).toMatchObject({ status: 503, code: 'unavailable' });
    expect(Number(refusedUpload.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refusedUpload.ms).toBeLessThan(QUICK_MS);
    // API calls still pass: uploads have their own bound.
    expect((await client.get('/api/episodes?limit=1')).status).toBe(200);

    // Then every in-flight slot, with creates whose JSON body is not complete yet: anything else is refused.
    const encode = (text: string) => new TextEncoder().encode(text);
    const creates = Array.from({ length: INFLIGHT - SLOTS }, () =>
      slowRequest(
        `${server.baseUrl}/api/ingest/episode`,
        'application/json',
        encode('{"source":'),
        encode('"sim"}'),
        server.apiKey,
      ),
    );
    await settle();
    const refused = await timed(fetch(`${server.baseUrl}/api/health`));
    expect(refused).toMatchObject({ status: 503, code: 'unavailable' });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(refused.ms).toBeLessThan(QUICK_MS);

    // The slow clients finish, and were served in full; service resumes.
    for (const s of [...uploads, ...creates]) s.release();
    expect(await Promise.all(uploads.map((s) => s.response.then((r) => r.status)))).toEqual(
      Array(SLOTS).fill(200),
    );
    expect(await Promise.all(creates.map((s) => s.response.then((r) => r.status)))).toEqual(
      Array(INFLIGHT - SLOTS).fill(201),
    );
    expect((await client.get('/api/health')).status).toBe(200);
    expect((await put(urls[SLOTS + 1] ?? '')).status).toBe(200);
  });
});
