import { randomBytes } from 'node:crypto';
import type { CreateEpisodeResponse, Episode, ListEpisodesResponse } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../../test/support/api.js';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { startApp, type TestApp } from '../support/app.js';
import { createKeyInPortal, signIn } from '../support/portal-http.js';

/**
 * What scripts/fuzz.sh (schemathesis against /api/openapi.json) found, each pinned here so it stays fixed
 * without running the fuzzer: 500s on text PostgreSQL cannot store, 405s without `Allow`, a list query the
 * contract allows refused by Node with a 431, and an OpenAPI document with unresolvable references.
 */
describe.each(['pglite', 'postgres'] as const)('fuzz regressions on %s', (kind) => {
  let server: TestApp;
  let pg: TestPostgres | undefined;
  let client: ReturnType<typeof api>;

  beforeAll(async () => {
    const env: Record<string, string> = {};
    if (kind === 'postgres') {
      pg = await startPostgres();
      env.DATABASE_URL = await pg.createDatabase();
      env.ROBOTRACE_SECRET = randomBytes(32).toString('hex');
    }
    server = await startApp({ env });
    client = api(server.baseUrl, server.apiKey);
  });
  afterAll(async () => {
    await server?.stop();
    await pg?.stop();
  });

  it('stores NUL and unpaired surrogates as U+FFFD instead of failing with a 500, and says so', async () => {
    // Raw JSON: the escapes reach the server exactly as Python's json.dumps writes them.
    const raw =
      '{"source":"sim","name":"arm\\u0000left","robot":"r\\u00002","git_sha":"\\ud800",' +
      '"metadata":{"k\\u0000":"v\\u0000","path":"/data/\\udcff.bin","ok":"🦾","nested":[{"\\ud83e":1}]}}';
    const created = await client.post<CreateEpisodeResponse>('/api/ingest/episode', undefined, { raw });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.warnings).toEqual([
      expect.stringMatching(/^7 character\(s\) .* replaced by U\+FFFD$/),
    ]);
    const id = created.body.episode_id;
    const finalized = await client.post<Episode>(`/api/ingest/episode/${id}/finalize`, undefined, {
      raw: '{"status":"failed","metadata":{"failure_reason":"joint\\u0000limit \\udc80"}}',
    });
    expect(finalized.status, JSON.stringify(finalized.body)).toBe(200);
    const got = await client.get<Episode>(`/api/episodes/${id}`);
    expect(got.body).toMatchObject({
      name: 'arm\ufffdleft',
      robot: 'r\ufffd2',
      git_sha: '\ufffd',
      metadata: {
        'k\ufffd': 'v\ufffd',
        path: '/data/\ufffd.bin',
        ok: '🦾',
        nested: [{ '\ufffd': 1 }],
        failure_reason: 'joint\ufffdlimit \ufffd',
      },
    });
  });

  it('answers list filters holding NUL or unpaired surrogates with a page, not a 500', async () => {
    for (const param of ['q', 'trace_id', 'span_id', 'robot', 'policy_version']) {
      // NUL, and the WTF-8 bytes of an unpaired surrogate (what encodeURIComponent refuses to make).
      for (const value of ['x%00', '%ED%A0%80', 'a%00%ED%B2%80']) {
        const r = await client.get<ListEpisodesResponse>(`/api/episodes?${param}=${value}`);
        expect(r.status, `${param}=${JSON.stringify(value)}: ${JSON.stringify(r.body)}`).toBe(200);
      }
    }
    const found = await client.get<ListEpisodesResponse>(
      `/api/episodes?robot=${encodeURIComponent('r\u00002')}`,
    );
    expect(found.body.data.map((e) => e.robot)).toEqual(['r\ufffd2']);
  });

  it('serves the longest list query the contract allows (Node alone would answer 431 past 16 KiB)', async () => {
    const long = 'ア'.repeat(2000); // 3 bytes in UTF-8: 9 characters each once percent-encoded
    const r = await client.get(
      `/api/episodes?q=${encodeURIComponent(long)}&trace_id=${encodeURIComponent(long)}&robot=${encodeURIComponent(long.slice(0, 200))}`,
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const over = await client.get(`/api/episodes?q=${encodeURIComponent(`${long}ア`)}`);
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({ code: 'validation_error' });
  });

  it('creates a portal API key whose name holds a NUL instead of failing with a 500', async () => {
    const user = await signIn(server.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const { key } = await createKeyInPortal(server.baseUrl, user, 'ci\u0000runner');
    expect((await api(server.baseUrl, key).get('/api/episodes?limit=1')).status).toBe(200);
    expect(server.output()).not.toMatch(/portal error|unhandled error/);
  });

  it('names the allowed methods in a 405 (RFC 9110 `Allow`)', async () => {
    const cases: [string, string, string][] = [
      ['PATCH', '/api/health', 'GET, HEAD'],
      ['DELETE', '/api/ingest/episode', 'POST'],
      ['PUT', `/api/episodes/${randomBytes(4).toString('hex')}`, 'DELETE, GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await client.call(method, path);
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(r.body).toMatchObject({ code: 'method_not_allowed' });
    }
  });

  it('resolves every reference, documents the upload-url route, and states when failure_time_s is allowed', async () => {
    const doc = (await client.get<Record<string, unknown>>('/api/openapi.json')).body as {
      components: { schemas: Record<string, Record<string, unknown>> };
      paths: Record<string, Record<string, unknown>>;
    };
    const schemas = doc.components.schemas;
    expect(schemas).not.toHaveProperty('__shared');
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\/[A-Za-z]+$/);
      expect(schemas, ref).toHaveProperty(ref.split('/').at(-1) ?? '');
    }
    for (const [name, schema] of Object.entries(schemas)) expect(schema, name).not.toHaveProperty('$id');
    expect(doc.paths).toHaveProperty(['/api/ingest/episode/{episode_id}/upload-url', 'post']);
    expect(schemas.FinalizeEpisodeRequest).toMatchObject({
      anyOf: [
        { properties: { status: { const: 'failed' } } },
        { properties: { failure_time_s: { type: 'null' } } },
      ],
    });
  });
});
