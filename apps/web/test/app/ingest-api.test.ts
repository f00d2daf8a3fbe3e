import { randomBytes } from 'node:crypto';
import type { CreateEpisodeResponse, Episode, ListEpisodesResponse } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, S, T, TRACEPARENT } from '../../../../test/support/api.js';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { TEST_API_KEY } from '../../../../test/support/server.js';
import { startApp, type TestApp } from '../support/app.js';

const OTHER_KEY = 'rt_otherproject_0123456789abcdefghij';

async function putBytes(url: string, bytes: Buffer, contentType = 'video/mp4') {
  return fetch(url, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'content-type': contentType } });
}

describe.each(['pglite', 'postgres'] as const)('ingest API on %s', (kind) => {
  let server: TestApp;
  let pgServer: TestPostgres | undefined;
  let client: ReturnType<typeof api>;

  beforeAll(async () => {
    const env: Record<string, string> = {};
    if (kind === 'postgres') {
      pgServer = await startPostgres();
      env.DATABASE_URL = await pgServer.createDatabase();
      env.ROBOTRACE_SECRET = randomBytes(32).toString('hex');
    }
    server = await startApp({ env });
    // A second project with its own key, for tenant isolation: the headless bootstrap again.
    await server.addProject('other', OTHER_KEY);
    client = api(server.baseUrl, TEST_API_KEY);
  });

  afterAll(async () => {
    await server?.stop();
    await pgServer?.stop();
  });

  const countEpisodes = async () =>
    (await client.get<ListEpisodesResponse>('/api/episodes?limit=200')).body.data.length;

  it('answers health and serves the OpenAPI document', async () => {
    expect((await client.get('/api/health')).body).toEqual({ status: 'ok' });
    const doc = await client.get<{ paths: Record<string, unknown> }>('/api/openapi.json');
    expect(Object.keys(doc.body.paths)).toContain('/api/ingest/episode');
  });

  it('create → PUT → finalize → read back metadata, otel block, bytes, and find it by trace id', async () => {
    const created = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'real',
      name: 'pick-and-place',
      robot: 'ur5e-02',
      policy_version: 'pi-0.3.1',
      env_version: 'kitchen-v7',
      git_sha: 'a1b2c3d',
      seed: 42,
      fps: 30,
      request_uploads: ['video', 'sensors'],
      metadata: { task: 'pick', joints: { __type: 'robotrace.JointState', q: [0.1, 0.2] } },
      otel: { trace_id: T, span_id: S, traceparent: TRACEPARENT, tracestate: 'rojo=00f067aa0ba902b7' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'recording', storage: 'local', warnings: [] });
    expect(created.body.portal_url).toBe(`${server.baseUrl}/portal/episodes/${created.body.episode_id}`);
    expect(created.body.upload_urls.map((u) => u.kind).sort()).toEqual(['sensors', 'video']);

    const video = randomBytes(300_000);
    const videoUrl = created.body.upload_urls.find((u) => u.kind === 'video')?.url ?? '';
    expect((await putBytes(videoUrl, video)).status).toBe(200);

    const id = created.body.episode_id;
    const fin = await client.post<Episode>(`/api/ingest/episode/${id}/finalize`, {
      status: 'ready',
      duration_s: 12.5,
      metadata: { success: true, otel: null },
    });
    expect(fin.status).toBe(200);
    expect(fin.body.status).toBe('ready');

    const got = await client.get<Episode>(`/api/episodes/${id}`);
    expect(got.body).toMatchObject({
      name: 'pick-and-place',
      source: 'real',
      seed: 42,
      fps: 30,
      duration_s: 12.5,
      bytes_total: video.length,
      otel: { trace_id: T, span_id: S, traceparent: TRACEPARENT, tracestate: 'rojo=00f067aa0ba902b7' },
    });
    // Finalize merged metadata and kept the otel block despite `otel: null` in its metadata.
    expect(got.body.metadata).toEqual({
      task: 'pick',
      joints: { __type: 'robotrace.JointState', q: [0.1, 0.2] },
      success: true,
      otel: { trace_id: T, span_id: S, traceparent: TRACEPARENT, tracestate: 'rojo=00f067aa0ba902b7' },
    });
    const videoArtifact = got.body.artifacts.find((a) => a.kind === 'video');
    expect(videoArtifact).toMatchObject({
      uploaded: true,
      size_bytes: video.length,
      content_type: 'video/mp4',
    });
    expect(got.body.artifacts.find((a) => a.kind === 'sensors')).toMatchObject({ uploaded: false });

    const redirect = await client.get(`/api/episodes/${id}/artifact/video`);
    expect(redirect.status).toBe(302);
    const signedGet = redirect.headers.get('location') ?? '';
    const downloaded = Buffer.from(await (await fetch(signedGet)).arrayBuffer());
    expect(downloaded.equals(video)).toBe(true);
    // Range requests let the video player seek.
    const ranged = await fetch(signedGet, { headers: { range: 'bytes=1000-1999' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(video.subarray(1000, 2000))).toBe(true);
    // The sensors slot was never uploaded.
    expect((await client.get(`/api/episodes/${id}/artifact/sensors`)).status).toBe(404);

    for (const query of [
      `trace_id=${T}`,
      `q=${TRACEPARENT}`,
      `q=%20${T.toUpperCase()}%20`,
      `span_id=${S}`,
      `q=1-4bf92f35-77b34da6a3ce929d0e0e4736`,
    ]) {
      const list = await client.get<ListEpisodesResponse>(`/api/episodes?${query}`);
      expect(
        list.body.data.map((e) => e.id),
        query,
      ).toEqual([id]);
    }
    expect(
      (await client.get<ListEpisodesResponse>(`/api/episodes?trace_id=${'1'.repeat(32)}`)).body.data,
    ).toEqual([]);
  });

  it('pages newest first with a cursor and filters by status, source and text', async () => {
    const ids: string[] = [];
    for (const [i, source] of ['sim', 'sim', 'replay'].entries()) {
      const r = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
        source,
        name: `sweep-${i}`,
        policy_version: 'sweep-pv',
      });
      ids.push(r.body.episode_id);
    }
    const first = await client.get<ListEpisodesResponse>('/api/episodes?policy_version=sweep-pv&limit=2');
    expect(first.body.data.map((e) => e.name)).toEqual(['sweep-2', 'sweep-1']);
    const second = await client.get<ListEpisodesResponse>(
      `/api/episodes?policy_version=sweep-pv&limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.data.map((e) => e.name)).toEqual(['sweep-0']);
    expect(second.body.next_cursor).toBeNull();
    expect(
      (await client.get<ListEpisodesResponse>('/api/episodes?source=replay&q=sweep')).body.data.map(
        (e) => e.id,
      ),
    ).toEqual([ids[2]]);
    expect(
      (await client.get<ListEpisodesResponse>('/api/episodes?status=recording&q=sweep-1')).body.data,
    ).toHaveLength(1);
    expect((await client.get('/api/episodes?cursor=garbage')).status).toBe(400);
    expect((await client.get('/api/episodes?status=lost')).status).toBe(400);
  });

  it('keeps the episode and warns when the otel block is bad', async () => {
    const r = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      otel: { trace_id: T.toUpperCase(), span_id: S },
    });
    expect(r.status).toBe(201);
    expect(r.body.warnings).toHaveLength(1);
    expect(r.body.warnings[0]).toMatch(/trace_id/);
    const got = await client.get<Episode>(`/api/episodes/${r.body.episode_id}`);
    expect(got.body.otel).toBeNull();
    expect(got.body.metadata).toEqual({});
  });

  it('finalize is idempotent for the same status and 409 for another', async () => {
    const r = await client.post<CreateEpisodeResponse>('/api/ingest/episode', { source: 'sim' });
    const path = `/api/ingest/episode/${r.body.episode_id}/finalize`;
    const first = await client.post<Episode>(path, {
      status: 'failed',
      failure_time_s: 3,
      metadata: { failure_reason: 'gripper slipped' },
    });
    expect(first.status).toBe(200);
    const again = await client.post<Episode>(path, { status: 'failed', failure_time_s: 9 });
    expect(again.status).toBe(200);
    expect(again.body.failure_time_s).toBe(3);
    expect(again.body.finalized_at).toBe(first.body.finalized_at);
    const conflict = await client.post(path, { status: 'ready' });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ code: 'conflict' });
    expect((await client.get<Episode>(`/api/episodes/${r.body.episode_id}`)).body.metadata).toEqual({
      failure_reason: 'gripper slipped',
    });
  });

  const badCreates: Array<[string, unknown, number, RegExp]> = [
    ['wrong type', { source: 'sim', name: 5 }, 400, /name/],
    ['unknown source', { source: 'moon' }, 400, /source/],
    ['a null source', { source: null, name: 'x' }, 400, /source/],
    ['a name over 200 characters', { source: 'sim', name: 'x'.repeat(201) }, 400, /name/],
    ['fractional seed', { source: 'sim', seed: 1.5 }, 400, /seed/],
    ['negative fps', { source: 'sim', fps: -1 }, 400, /fps/],
    ['unknown artifact kind', { source: 'sim', request_uploads: ['lidar'] }, 400, /request_uploads/],
    ['metadata not an object', { source: 'sim', metadata: [1, 2] }, 400, /metadata/],
    [
      'metadata over 1 MiB',
      { source: 'sim', metadata: { blob: 'x'.repeat(1024 * 1024 + 10) } },
      413,
      /metadata/,
    ],
    ['a JSON array body', [1, 2], 400, /object/],
  ];
  for (const [name, body, status, message] of badCreates) {
    it(`rejects a create with ${name} (${status}) and stores nothing`, async () => {
      const before = await countEpisodes();
      const r = await client.post<{ error: string; code: string; request_id: string }>(
        '/api/ingest/episode',
        body,
      );
      expect(r.status).toBe(status);
      expect(r.body.error).toMatch(message);
      expect(typeof r.body.code).toBe('string');
      expect(r.body.request_id).toMatch(/^req_/);
      expect(await countEpisodes()).toBe(before);
    });
  }

  it('takes {} as a create: a metadata-only run of source "real" (OFFICIAL_PILLARS.md)', async () => {
    const r = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {});
    expect(r.status).toBe(201);
    expect((await client.get<Episode>(`/api/episodes/${r.body.episode_id}`)).body).toMatchObject({
      source: 'real',
      name: null,
      metadata: {},
    });
  });

  it('rejects malformed JSON, an oversized body, and bad finalize input', async () => {
    const bad = await client.post('/api/ingest/episode', undefined, { raw: '{"source": "sim",' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid_json' });
    const huge = await client.post('/api/ingest/episode', undefined, {
      raw: JSON.stringify({ source: 'sim', pad: 'x'.repeat(3 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    const r = await client.post<CreateEpisodeResponse>('/api/ingest/episode', { source: 'sim' });
    const path = `/api/ingest/episode/${r.body.episode_id}/finalize`;
    expect(
      (await client.post<{ error: string }>(path, { status: 'ready', duration_s: -2 })).body.error,
    ).toMatch(/duration_s/);
    expect((await client.post(path, { status: 'done' })).status).toBe(400);
    expect((await client.post(path, { status: 'ready', failure_time_s: 1 })).status).toBe(400);
    expect((await client.get<Episode>(`/api/episodes/${r.body.episode_id}`)).body.status).toBe('recording');
  });

  it('401 for a missing, malformed or unknown key, saying how to get one', async () => {
    for (const key of [undefined, 'nope', 'rt_unknownkey_000000000000000000000']) {
      const r = await api(server.baseUrl, key).post<{ error: string; code: string }>('/api/ingest/episode', {
        source: 'sim',
      });
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('unauthorized');
      expect(r.body.error).toMatch(/API keys|create-key/);
    }
  });

  it("404 for another project's episode, an unknown id and a malformed id — on every route", async () => {
    const mine = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['video'],
    });
    const id = mine.body.episode_id;
    await putBytes(mine.body.upload_urls[0]?.url ?? '', randomBytes(10));
    const other = api(server.baseUrl, OTHER_KEY);
    expect((await other.get(`/api/episodes/${id}`)).status).toBe(404);
    expect((await other.get(`/api/episodes/${id}/artifact/video`)).status).toBe(404);
    expect((await other.post(`/api/ingest/episode/${id}/finalize`, { status: 'ready' })).status).toBe(404);
    expect((await other.get<ListEpisodesResponse>('/api/episodes')).body.data).toEqual([]);
    expect((await client.get(`/api/episodes/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`)).status).toBe(
      404,
    );
    expect((await client.get('/api/episodes/not-a-uuid')).status).toBe(404);
    expect((await client.get(`/api/episodes/${id}/artifact/lidar`)).status).toBe(404);
    expect((await client.get<Episode>(`/api/episodes/${id}`)).body.status).toBe('recording');
  });

  it('Idempotency-Key: a retry replays the original episode, another body is a 409, concurrent retries make one', async () => {
    const before = await countEpisodes();
    const body = { source: 'sim', name: 'idem', request_uploads: ['video'] };
    const headers = { 'idempotency-key': `k-${randomBytes(8).toString('hex')}` };
    const first = await client.post<CreateEpisodeResponse>('/api/ingest/episode', body, { headers });
    const again = await client.post<CreateEpisodeResponse>('/api/ingest/episode', body, { headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.episode_id).toBe(first.body.episode_id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await client.post('/api/ingest/episode', { ...body, name: 'different' }, { headers });
    expect(other.status).toBe(409);
    expect(await countEpisodes()).toBe(before + 1);

    const raceKey = { 'idempotency-key': `race-${randomBytes(8).toString('hex')}` };
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        client.post<CreateEpisodeResponse>('/api/ingest/episode', body, { headers: raceKey }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(results.map((r) => r.body.episode_id)).size).toBe(1);
    expect(await countEpisodes()).toBe(before + 2);

    const fin = { 'idempotency-key': `fin-${randomBytes(8).toString('hex')}` };
    const path = `/api/ingest/episode/${first.body.episode_id}/finalize`;
    const f1 = await client.post<Episode>(path, { status: 'ready', duration_s: 1 }, { headers: fin });
    const f2 = await client.post<Episode>(path, { status: 'ready', duration_s: 1 }, { headers: fin });
    expect(f2.body).toEqual(f1.body);
    expect((await client.post(path, { status: 'ready', duration_s: 2 }, { headers: fin })).status).toBe(409);
    // A key is scoped to its operation: the create key does not collide with a finalize.
    expect((await client.post(path, { status: 'ready', duration_s: 1 }, { headers })).status).toBe(200);
  });

  it('hands out a fresh upload URL for a recording episode, and none after finalize', async () => {
    const r = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['actions'],
    });
    const path = `/api/ingest/episode/${r.body.episode_id}/upload-url`;
    const fresh = await client.post<{ url: string; kind: string }>(path, { kind: 'actions' });
    expect(fresh.status).toBe(200);
    expect((await putBytes(fresh.body.url, randomBytes(64), 'application/octet-stream')).status).toBe(200);
    expect((await client.post(path, { kind: 'video' })).status).toBe(404);
    await client.post(`/api/ingest/episode/${r.body.episode_id}/finalize`, { status: 'ready' });
    expect((await client.post(path, { kind: 'actions' })).status).toBe(409);
  });

  it('refuses a tampered or wrong-type upload and keeps no partial artifact', async () => {
    const r = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['video'],
    });
    const url = new URL(r.body.upload_urls[0]?.url ?? '');
    const tampered = new URL(url);
    tampered.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 3600));
    expect((await putBytes(tampered.toString(), randomBytes(10))).status).toBe(403);
    const otherPath = new URL(url);
    otherPath.pathname = otherPath.pathname.replace('/video', '/sensors');
    expect((await putBytes(otherPath.toString(), randomBytes(10))).status).toBe(403);
    expect((await putBytes(url.toString(), randomBytes(10), 'text/html')).status).toBe(415);
    const got = await client.get<Episode>(`/api/episodes/${r.body.episode_id}`);
    expect(got.body.artifacts[0]).toMatchObject({ kind: 'video', uploaded: false });
    expect((await client.get(`/api/episodes/${r.body.episode_id}/artifact/video`)).status).toBe(404);
  });
});
