import { request } from 'node:http';
import type { ListEpisodesResponse } from '@robotrace/contracts';
import { describe, expect, it } from 'vitest';
import { isJsonMediaType } from '../../src/http/media-type.js';
import { useApp } from '../support/app.js';

/** One raw request (exact headers: no fetch defaults such as a text/plain Content-Type for a string body). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | string[],
): Promise<{ status: number; body: { code?: string; error?: string; episode_id?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    // An array is sent chunked (no Content-Length), chunk by chunk.
    for (const chunk of Array.isArray(body) ? body : body === undefined ? [] : [body]) req.write(chunk);
    req.end();
  });
}

describe('isJsonMediaType', () => {
  it('takes application/json with parameters and application/*+json, nothing else', () => {
    for (const t of [
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON;charset=UTF-8',
      'application/vnd.robotrace+json',
      'application/merge-patch+json; charset=utf-8',
    ])
      expect(isJsonMediaType(t), t).toBe(true);
    for (const t of [
      undefined,
      '',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'application/jsonp',
      'multipart/form-data; boundary=x',
      'application/+json',
    ])
      expect(isJsonMediaType(t), String(t)).toBe(false);
  });
});

describe('JSON request bodies', () => {
  const app = useApp({ env: { ROBOTRACE_MAX_BODY_BYTES: '4096' } });
  const key = () => ({ authorization: `Bearer ${app.current.apiKey}` });
  const count = async () =>
    (await app.current.client().get<ListEpisodesResponse>('/api/episodes?limit=200')).body.data.length;
  const create = (headers: Record<string, string>, body?: string | string[]) =>
    send(app.current.baseUrl, 'POST', '/api/ingest/episode', { ...key(), ...headers }, body);
  const sim = JSON.stringify({ source: 'sim' });

  it('refuses a body that is not declared JSON with 415 unsupported_media_type, and stores nothing', async () => {
    const before = await count();
    for (const headers of <Record<string, string>[]>[
      { 'content-type': 'text/plain' },
      { 'content-type': 'text/plain;charset=UTF-8' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      {},
    ]) {
      const r = await create(headers, sim);
      expect(r.status, JSON.stringify(headers)).toBe(415);
      expect(r.body.code).toBe('unsupported_media_type');
      expect(r.body.error).toMatch(/application\/json/);
    }
    const finalize = await send(
      app.current.baseUrl,
      'POST',
      `/api/ingest/episode/${crypto.randomUUID()}/finalize`,
      { ...key(), 'content-type': 'text/plain' },
      '{"status":"ready"}',
    );
    expect(finalize.status).toBe(415);
    expect(await count()).toBe(before);
  });

  it('checks the key before the media type: an unauthenticated caller learns nothing else', async () => {
    const r = await send(
      app.current.baseUrl,
      'POST',
      '/api/ingest/episode',
      { 'content-type': 'text/plain' },
      sim,
    );
    expect(r.status).toBe(401);
  });

  it('takes what the SDKs send: application/json (with a charset) and application/*+json', async () => {
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'application/vnd.robotrace+json',
    ]) {
      const r = await create({ 'content-type': type }, sim);
      expect(r.status, type).toBe(201);
    }
  });

  it('reads a POST without a body as {}: the schema then decides', async () => {
    const headerSets: Record<string, string>[] = [
      {},
      { 'content-length': '0' },
      { 'content-type': 'application/json', 'content-length': '0' },
      { 'content-type': 'text/plain', 'content-length': '0' },
    ];
    for (const headers of headerSets) {
      // `{}` is a valid create (a metadata-only run of source "real").
      const created = await create(headers);
      expect(created.status, JSON.stringify(headers)).toBe(201);
      const got = await app.current
        .client()
        .get<{ source: string }>(`/api/episodes/${created.body.episode_id}`);
      expect(got.body.source).toBe('real');
      // A finalize needs its status.
      const finalize = await send(
        app.current.baseUrl,
        'POST',
        `/api/ingest/episode/${created.body.episode_id}/finalize`,
        { ...key(), ...headers },
      );
      expect(finalize.status, JSON.stringify(headers)).toBe(400);
      expect(finalize.body).toMatchObject({
        code: 'validation_error',
        error: expect.stringMatching(/status/),
      });
    }
    const blank = await create({ 'content-type': 'application/json' }, '   ');
    expect(blank).toMatchObject({ status: 400, body: { code: 'invalid_json' } });
  });

  it('answers 413 past ROBOTRACE_MAX_BODY_BYTES, declared or chunked, and stores nothing', async () => {
    const before = await count();
    const big = JSON.stringify({ source: 'sim', name: 'x'.repeat(5000) });
    const declared = await create({ 'content-type': 'application/json' }, big);
    expect(declared).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
    const chunked = await create({ 'content-type': 'application/json' }, [
      big.slice(0, 3000),
      big.slice(3000),
    ]);
    expect(chunked).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
    const under = await create({ 'content-type': 'application/json' }, [sim.slice(0, 5), sim.slice(5)]);
    expect(under.status).toBe(201);
    expect(await count()).toBe(before + 1);
  });
});
