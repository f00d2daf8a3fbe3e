import { randomBytes } from 'node:crypto';
import type { CreateEpisodeResponse, Episode, ListEpisodesResponse } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../../test/support/api.js';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { startApp, type TestApp } from '../support/app.js';
import { createKeyInPortal, type PortalUser, portal, signIn, signUp } from '../support/portal-http.js';

/**
 * Tenant isolation: two projects, each with its own portal user and API key. Every API route and portal page
 * given the other project's ids answers 404 — never 403, never a byte of the other project's data; list
 * filters (trace id, span id, text, traceparent) find nothing of the other project; signed URLs name one slot;
 * a revoked key is refused on its next request.
 */
const KINDS = ['video', 'sensors', 'actions'] as const;

interface Tenant {
  name: string;
  user: PortalUser;
  key: string;
  client: ReturnType<typeof api>;
  traceId: string;
  spanId: string;
  /** Finalized, with uploaded video and sensors. */
  done: string;
  /** Still recording, with all three slots and their upload URLs. */
  open: string;
  openUrls: Record<string, string>;
  idempotencyKey: string;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

async function put(url: string, bytes: Buffer, type: string): Promise<number> {
  const res = await fetch(url, {
    method: 'PUT',
    body: new Uint8Array(bytes),
    headers: { 'content-type': type },
  });
  await res.arrayBuffer();
  return res.status;
}

async function seed(server: TestApp, name: string, user: PortalUser, key: string): Promise<Tenant> {
  const client = api(server.baseUrl, key);
  const traceId = hex(16);
  const spanId = hex(8);
  const otel = { trace_id: traceId, span_id: spanId, traceparent: `00-${traceId}-${spanId}-01` };
  const idempotencyKey = `shared-idempotency-key-${name}`;
  const created = await client.post<CreateEpisodeResponse>(
    '/api/ingest/episode',
    {
      source: 'real',
      name: `${name}-done`,
      robot: `${name}-robot`,
      policy_version: `${name}-policy`,
      git_sha: `${name}sha`,
      request_uploads: ['video', 'sensors'],
      metadata: { secret_of: name },
      otel,
    },
    { headers: { 'idempotency-key': idempotencyKey } },
  );
  expect(created.status).toBe(201);
  const urls = Object.fromEntries(created.body.upload_urls.map((u) => [u.kind, u.url]));
  expect(await put(urls.video ?? '', randomBytes(256), 'video/mp4')).toBe(200);
  expect(await put(urls.sensors ?? '', randomBytes(128), 'application/octet-stream')).toBe(200);
  const done = created.body.episode_id;
  expect((await client.post(`/api/ingest/episode/${done}/finalize`, { status: 'ready' })).status).toBe(200);
  const open = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
    source: 'sim',
    name: `${name}-open`,
    request_uploads: [...KINDS],
    otel,
  });
  expect(open.status).toBe(201);
  return {
    name,
    user,
    key,
    client,
    traceId,
    spanId,
    done,
    open: open.body.episode_id,
    openUrls: Object.fromEntries(open.body.upload_urls.map((u) => [u.kind, u.url])),
    idempotencyKey,
  };
}

describe('tenant isolation: two projects, two users, two keys', () => {
  let server: TestApp;
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    // Project "demo" with its owner and key come from the headless bootstrap; project "lab-b" signs up.
    server = await startApp({ env: { ROBOTRACE_ALLOW_SIGNUP: '1' } });
    const base = server.baseUrl;
    const userA = await signIn(base, TEST_EMAIL, TEST_PASSWORD);
    const userB = await signUp(base, {
      name: 'Bea',
      email: 'bea@lab-b.example.com',
      password: `pw-${hex(8)}`,
      project: 'lab-b',
    });
    const keyB = (await createKeyInPortal(base, userB, 'lab-b-robot')).key;
    a = await seed(server, 'alpha', userA, server.apiKey);
    b = await seed(server, 'bravo', userB, keyB);
  });
  afterAll(() => server?.stop());

  const pairs = () =>
    [
      [a, b],
      [b, a],
    ] as const;

  it('reads: the other project’s episodes and artifacts are 404, never 403, never data', async () => {
    for (const [me, other] of pairs()) {
      for (const id of [other.done, other.open, other.done.toUpperCase()]) {
        const r = await me.client.get(`/api/episodes/${id}`);
        expect(r.status, `${me.name} GET ${other.name}'s ${id}`).toBe(404);
        expect(JSON.stringify(r.body)).not.toContain(other.name);
        for (const kind of KINDS) {
          const art = await me.client.get(`/api/episodes/${id}/artifact/${kind}`);
          expect(art.status, `${me.name} artifact ${kind} of ${other.name}`).toBe(404);
          expect(art.headers.get('location')).toBeNull();
        }
      }
      // Its own reads work (the 404s above are about ownership, not a broken route).
      expect((await me.client.get(`/api/episodes/${me.done}`)).status).toBe(200);
      expect((await me.client.get(`/api/episodes/${me.done}/artifact/video`)).status).toBe(302);
    }
  });

  it('writes: the other project’s episodes cannot be finalized or given upload URLs', async () => {
    for (const [me, other] of pairs()) {
      for (const status of ['ready', 'failed']) {
        const r = await me.client.post(`/api/ingest/episode/${other.open}/finalize`, { status });
        expect(r.status, `${me.name} finalizes ${other.name}'s episode as ${status}`).toBe(404);
      }
      const keyed = await me.client.post(
        `/api/ingest/episode/${other.open}/finalize`,
        { status: 'ready' },
        { headers: { 'idempotency-key': `finalize-${hex(4)}` } },
      );
      expect(keyed.status).toBe(404);
      for (const kind of KINDS) {
        const r = await me.client.post(`/api/ingest/episode/${other.open}/upload-url`, { kind });
        expect(r.status, `${me.name} asks an upload URL of ${other.name}'s ${kind}`).toBe(404);
        expect(JSON.stringify(r.body)).not.toMatch(/api\/storage/);
      }
      const still = await other.client.get<Episode>(`/api/episodes/${other.open}`);
      expect(still.body.status).toBe('recording');
    }
  });

  it('the same Idempotency-Key in two projects makes two episodes (keys are per project)', async () => {
    // b's create used its own key; a sends b's key with a body of its own: a new episode of a's, no replay.
    const r = await a.client.post<CreateEpisodeResponse>(
      '/api/ingest/episode',
      { source: 'real', name: 'alpha-same-key' },
      { headers: { 'idempotency-key': b.idempotencyKey } },
    );
    expect(r.status).toBe(201);
    expect(r.headers.get('idempotent-replayed')).toBeNull();
    expect(r.body.episode_id).not.toBe(b.done);
  });

  it('list filters find nothing of the other project: trace id, span id, traceparent, APM URL, text, fields', async () => {
    for (const [me, other] of pairs()) {
      const queries = [
        `trace_id=${other.traceId}`,
        `trace_id=${other.traceId.toUpperCase()}`,
        `span_id=${other.spanId}`,
        `q=${other.traceId}`,
        `q=00-${other.traceId}-${other.spanId}-01`,
        `q=${encodeURIComponent(`https://app.datadoghq.com/apm/trace/${other.traceId}`)}`,
        `q=${other.spanId}`,
        `q=${other.name}`,
        `q=${other.name}-done`,
        `robot=${other.name}-robot`,
        `policy_version=${other.name}-policy`,
        `q=${other.name}sha`,
        'limit=200',
        'status=recording&limit=200',
      ];
      for (const q of queries) {
        const r = await me.client.get<ListEpisodesResponse>(`/api/episodes?${q}`);
        expect(r.status, `${me.name}: ${q}`).toBe(200);
        expect(JSON.stringify(r.body), `${me.name}: ${q}`).not.toContain(other.name);
        expect(r.body.data.map((e) => e.id)).not.toContain(other.done);
      }
      // The same filters do find one's own episodes.
      const own = await me.client.get<ListEpisodesResponse>(`/api/episodes?trace_id=${me.traceId}`);
      expect(own.body.data.map((e) => e.id).sort()).toEqual([me.done, me.open].sort());
    }
  });

  it('signed URLs name one slot: another episode’s path under my signature is refused', async () => {
    for (const [me, other] of pairs()) {
      const mine = new URL(me.openUrls.video ?? '');
      // Swap my episode (and project) for the other one's in the path, keep my signature.
      const forged = new URL(mine);
      const [, , , project, episode] = mine.pathname.split('/');
      const otherSlot = new URL(other.openUrls.video ?? '').pathname.split('/');
      forged.pathname = mine.pathname.replace(`${project}/${episode}`, `${otherSlot[3]}/${otherSlot[4]}`);
      expect(forged.pathname).not.toBe(mine.pathname);
      expect(await put(forged.toString(), randomBytes(64), 'video/mp4')).toBe(403);
      // And the download URL of my artifact does not open theirs.
      const redirect = await me.client.get(`/api/episodes/${me.done}/artifact/video`);
      const download = new URL(redirect.headers.get('location') ?? '', server.baseUrl);
      const otherDone = download.pathname.replace(me.done, other.done);
      const stolen = await fetch(new URL(`${otherDone}${download.search}`, server.baseUrl));
      expect(stolen.status).toBe(403);
    }
    // Nothing reached the other project's slots.
    const untouched = await b.client.get<Episode>(`/api/episodes/${b.open}`);
    expect(untouched.body.artifacts.every((x) => !x.uploaded)).toBe(true);
  });

  it('portal pages: the other project’s episode, trace and artifacts are 404 pages without its data', async () => {
    for (const [me, other] of pairs()) {
      const paths = [
        `/portal/episodes/${other.done}`,
        `/portal/episodes/${other.open}`,
        `/portal/traces/${other.traceId}`,
        `/api/episodes/${other.done}/artifact/video`, // the <video> source, read with the session cookie
      ];
      for (const path of paths) {
        const page = await portal(server.baseUrl, me.user, path);
        expect(page.status, `${me.name} opens ${path}`).toBe(404);
        expect(page.html).not.toContain(other.name);
        expect(page.headers.get('location')).toBeNull();
      }
      for (const q of [other.traceId, `${other.name}-done`, `00-${other.traceId}-${other.spanId}-01`]) {
        const list = await portal(server.baseUrl, me.user, `/portal/episodes?q=${encodeURIComponent(q)}`);
        expect(list.status).toBe(200);
        // The search box echoes the query; the results must hold nothing of the other project.
        expect(list.html, `${me.name} searches ${q}`).toContain('No episodes match');
        for (const data of [other.done, other.open, `${other.name}-robot`, `${other.name}-policy`])
          expect(list.html, `${me.name} searches ${q}`).not.toContain(data);
      }
      // Its own pages open (the 404s above are about ownership).
      expect((await portal(server.baseUrl, me.user, `/portal/episodes/${me.done}`)).status).toBe(200);
      expect((await portal(server.baseUrl, me.user, `/portal/traces/${me.traceId}`)).status).toBe(200);
      const keys = await portal(server.baseUrl, me.user, '/portal/api-keys');
      expect(keys.html).not.toContain(other.key.slice(0, 10));
    }
  });

  it('a revoked key gets 401 on its very next request; another project cannot revoke it', async () => {
    const base = server.baseUrl;
    const created = await createKeyInPortal(base, a.user, 'alpha-ci');
    const ci = api(base, created.key);
    let keysPage = await portal(base, a.user, '/portal/api-keys');
    const row = () => keysPage.html.split('<tr').find((r) => r.includes('<td>alpha-ci</td>')) ?? '';
    expect(row()).toContain('never'); // last used: never
    expect((await ci.get('/api/episodes?limit=1')).status).toBe(200);
    keysPage = await portal(base, a.user, '/portal/api-keys');
    expect(row()).not.toContain('never'); // last_used_at recorded

    // b's user cannot revoke a's key: a 404 page, and the key keeps working.
    const foreign = await portal(base, b.user, `/portal/api-keys/${created.id}/revoke`, {});
    expect(foreign.status).toBe(404);
    expect((await ci.get('/api/episodes?limit=1')).status).toBe(200);

    const revoked = await portal(base, a.user, `/portal/api-keys/${created.id}/revoke`, {});
    expect(revoked.status).toBe(303);
    const refused = await ci.get('/api/episodes?limit=1');
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'unauthorized' });
    const create = await ci.post('/api/ingest/episode', { source: 'sim' });
    expect(create.status).toBe(401);
    // The project's other key is unaffected.
    expect((await a.client.get('/api/episodes?limit=1')).status).toBe(200);
  });

  it('writes no key, password or session token to the log', () => {
    const log = server.output();
    for (const secret of [a.key, b.key, a.user.password, b.user.password]) expect(log).not.toContain(secret);
    for (const user of [a.user, b.user])
      for (const pair of user.cookie.split('; ')) {
        const value = pair.slice(pair.indexOf('=') + 1);
        if (value.length >= 16) expect(log).not.toContain(value);
      }
  });
});
