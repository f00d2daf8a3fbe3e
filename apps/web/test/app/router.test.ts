import { buildOpenApiDocument, openApiPath } from '@robotrace/contracts';
import { describe, expect, it } from 'vitest';
import { Router } from '../../src/http/router.js';
import { useApp } from '../support/app.js';

describe('Router', () => {
  const noop = () => {};
  const router = new Router()
    .on('GET', '/api/episodes/{episode_id}', noop)
    .on('POST', '/api/episodes/{episode_id}', noop)
    .on('GET', '/api/storage/{key*}', noop)
    .on('GET', '/portal/episodes/:id', noop)
    .on('GET', '/assets/*', noop);

  it('matches API templates and portal patterns, URL-decoding params', () => {
    expect(router.match('GET', '/api/episodes/a%20b')).toMatchObject({ params: { episode_id: 'a b' } });
    expect(router.match('GET', '/portal/episodes/x')).toMatchObject({ params: { id: 'x' } });
    expect(router.match('GET', '/assets/app.css')).toMatchObject({ params: { rest: 'app.css' } });
    // A malformed escape stays as sent instead of throwing.
    expect(router.match('GET', '/api/episodes/%E0%A4%A')).toMatchObject({
      params: { episode_id: '%E0%A4%A' },
    });
  });

  it('lets a {name*} parameter span slashes, and a {name} parameter only one segment', () => {
    expect(router.match('GET', '/api/storage/p/e/video')).toMatchObject({ params: { key: 'p/e/video' } });
    expect(router.match('GET', '/api/episodes/a/b')).toBeNull();
  });

  it('serves HEAD from GET, and names the methods a known path allows', () => {
    expect(router.match('HEAD', '/api/episodes/x')).toHaveProperty('handler');
    expect(router.match('DELETE', '/api/episodes/x')).toEqual({ allowed: ['GET', 'HEAD', 'POST'] });
    expect(router.match('GET', '/nothing')).toBeNull();
  });

  it('hands a literal path to its own routes only, whichever was registered first (a 405, not a parameter)', () => {
    const exportFirst = () => {};
    const byId = () => {};
    for (const literalFirst of [true, false]) {
      const r = new Router();
      if (literalFirst) r.on('GET', '/api/episodes/export', exportFirst);
      r.on('GET', '/api/episodes/{episode_id}', byId).on('DELETE', '/api/episodes/{episode_id}', byId);
      if (!literalFirst) r.on('GET', '/api/episodes/export', exportFirst);
      expect(r.match('GET', '/api/episodes/export')).toMatchObject({ handler: exportFirst });
      expect(r.match('DELETE', '/api/episodes/export')).toEqual({ allowed: ['GET', 'HEAD'] });
      expect(r.match('DELETE', '/api/episodes/e1')).toMatchObject({
        handler: byId,
        params: { episode_id: 'e1' },
      });
    }
  });

  it('lists what it registered, in order', () => {
    expect(router.list().map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/episodes/{episode_id}',
      'POST /api/episodes/{episode_id}',
      'GET /api/storage/{key*}',
      'GET /portal/episodes/:id',
      'GET /assets/*',
    ]);
  });
});

describe('the app serves exactly the documented API', () => {
  const app = useApp();

  it('every /api route it registers is in the OpenAPI document, and every documented route is served', async () => {
    const { createApp } = await import('../../src/app.js');
    const served = createApp(app.current.services)
      .routes.filter((r) => r.path.startsWith('/api/'))
      .map((r) => `${r.method} ${openApiPath(r.path)}`);
    const doc = buildOpenApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(served.sort()).toEqual(documented.sort());
    // The served document is that one.
    const got = await app.current.client().get('/api/openapi.json');
    expect(got.body).toEqual(doc);
  });

  it('answers an unknown /api path 404 and a known path under another method 405 with Allow', async () => {
    const client = app.current.client();
    const missing = await client.get('/api/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'not_found' });
    for (const [method, path, allow] of [
      ['DELETE', '/api/episodes', 'GET, HEAD'],
      ['GET', '/api/ingest/episode', 'POST'],
      ['POST', '/api/health', 'GET, HEAD'],
      ['DELETE', '/api/storage/a/b/video', 'PUT, GET, HEAD'],
      ['DELETE', '/api/episodes/export', 'GET, HEAD'],
    ] as const) {
      const r = await client.call(method, path);
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(r.body).toMatchObject({ code: 'method_not_allowed' });
    }
  });

  it('answers HEAD on a GET route with the headers and no body', async () => {
    const res = await fetch(`${app.current.baseUrl}/api/health`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.text()).toBe('');
  });

  it('answers a path parameter its schema refuses with 404 after the key check, never 400', async () => {
    const client = app.current.client();
    expect((await client.get('/api/episodes/not-a-uuid')).status).toBe(404);
    expect((await client.get('/api/episodes/not-a-uuid/artifact/video')).status).toBe(404);
    expect((await app.current.client('rt_nope').get('/api/episodes/not-a-uuid')).status).toBe(401);
  });
});
