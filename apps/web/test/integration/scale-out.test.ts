import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { CreateEpisodeResponse, Episode } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../../test/support/api.js';
import { MOTO_CREDENTIALS, startMoto, type TestS3 } from '../../../../test/support/moto.js';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import {
  startServer,
  TEST_API_KEY,
  TEST_EMAIL,
  TEST_PASSWORD,
  type TestServer,
} from '../../../../test/support/server.js';

// Production mode (issue 9): two stateless instances sharing one PostgreSQL, one secret and one bucket.
const SECRET = 'scale-out-secret-'.padEnd(64, 'x');
const BUCKET = 'robotrace-artifacts';
const RATE_LIMIT_PER_MINUTE = 30;
const ACTIONS_LIMIT = 1000;

let pg: TestPostgres;
let s3: TestS3;

// On a fresh machine the first run installs moto from PyPI (scripts/setup-moto.sh, a minute or two).
beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startMoto()]);
  await s3.createBucket(BUCKET);
}, 300_000);
afterAll(async () => {
  await Promise.all([pg?.stop(), s3?.stop()]);
});

/** `npm run db:migrate`'s entry point (built), as a deploy step would run it before the instances start. */
function migrate(databaseUrl: string): string {
  return execFileSync(process.execPath, ['apps/web/dist/migrate.js'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, ROBOTRACE_SECRET: SECRET },
    encoding: 'utf8',
  });
}

const put = (url: string, body: Uint8Array<ArrayBuffer>, contentType: string) =>
  fetch(url, { method: 'PUT', body, headers: { 'content-type': contentType }, redirect: 'manual' });

/** Follows the artifact redirect by hand: the API answers 302 to a signed GET, which we fetch without auth. */
async function download(baseUrl: string, episodeId: string, kind: string, range?: string) {
  const r = await fetch(`${baseUrl}/api/episodes/${episodeId}/artifact/${kind}`, {
    headers: { authorization: `Bearer ${TEST_API_KEY}` },
    redirect: 'manual',
  });
  expect(r.status).toBe(302);
  const location = r.headers.get('location') ?? '';
  const res = await fetch(location, range ? { headers: { range } } : {});
  return { location, res, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('scale-out: two app instances on PostgreSQL + S3 (moto)', () => {
  let one: TestServer;
  let two: TestServer;
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await pg.createDatabase();
    expect(migrate(databaseUrl)).toContain('migrations applied (postgres)');
    const env = {
      DATABASE_URL: databaseUrl,
      ROBOTRACE_SECRET: SECRET,
      ROBOTRACE_MIGRATE_ON_START: '', // the schema came from db:migrate above
      ROBOTRACE_STORAGE: 's3',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: BUCKET,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      S3_FORCE_PATH_STYLE: '1',
      ROBOTRACE_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT_PER_MINUTE),
      ROBOTRACE_MAX_UPLOAD_BYTES_ACTIONS: String(ACTIONS_LIMIT),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    one = await startServer({ env });
    two = await startServer({ env });
    expect(one.baseUrl).not.toBe(two.baseUrl);
  });
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
  });

  it('refuses to start on a database that was never migrated, naming the fix', async () => {
    const fresh = await pg.createDatabase();
    const start = startServer({
      env: { DATABASE_URL: fresh, ROBOTRACE_SECRET: SECRET, ROBOTRACE_MIGRATE_ON_START: '' },
    });
    await expect(start).rejects.toThrow(
      /\d+ migration\(s\) behind.*npm run db:migrate.*ROBOTRACE_MIGRATE_ON_START=1/,
    );
  });

  it('create on 1, upload straight to the bucket, finalize on 2, read the same episode and bytes on either', async () => {
    const created = await api(one.baseUrl, TEST_API_KEY).post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'real',
      name: 'scale-out',
      request_uploads: ['video', 'sensors'],
      metadata: { task: 'pick' },
    });
    expect(created.status).toBe(201);
    expect(created.body.storage).toBe('s3');
    const video = new Uint8Array(randomBytes(300_000));
    const sensors = new Uint8Array(randomBytes(4_096));
    for (const slot of created.body.upload_urls) {
      // The SDK PUTs to the bucket itself: the app never carries artifact bytes.
      expect(slot.url.startsWith(`${s3.endpoint}/${BUCKET}/`)).toBe(true);
      expect(slot.url.startsWith(one.baseUrl)).toBe(false);
      const body = slot.kind === 'video' ? video : sensors;
      const type = slot.kind === 'video' ? 'video/mp4' : 'application/octet-stream';
      expect((await put(slot.url, body, type)).status).toBeLessThan(400);
    }

    const id = created.body.episode_id;
    const fin = await api(two.baseUrl, TEST_API_KEY).post<Episode>(`/api/ingest/episode/${id}/finalize`, {
      status: 'ready',
      duration_s: 12.5,
    });
    expect(fin.status).toBe(200);
    expect(fin.body.status).toBe('ready');
    // Sizes come from the bucket (HEAD at finalize), since no instance saw the upload.
    expect(fin.body.bytes_total).toBe(video.length + sensors.length);
    expect(fin.body.artifacts.map((a) => [a.kind, a.uploaded, a.size_bytes, a.content_type])).toEqual([
      ['sensors', true, sensors.length, 'application/octet-stream'],
      ['video', true, video.length, 'video/mp4'],
    ]);

    const [a, b] = await Promise.all(
      [one, two].map((s) => api(s.baseUrl, TEST_API_KEY).get<Episode>(`/api/episodes/${id}`)),
    );
    expect(a?.body.metadata).toEqual({ task: 'pick' });
    expect(a?.body.status).toBe('ready');
    expect({ ...b?.body, portal_url: '', artifacts: [] }).toEqual({
      ...a?.body,
      portal_url: '',
      artifacts: [],
    });

    for (const server of [one, two]) {
      const got = await download(server.baseUrl, id, 'video');
      // Reads redirect to a short-lived presigned GET on the bucket.
      expect(got.location.startsWith(`${s3.endpoint}/${BUCKET}/`)).toBe(true);
      expect(new URL(got.location).searchParams.get('X-Amz-Expires')).toBe('300');
      expect(got.res.status).toBe(200);
      expect(got.res.headers.get('content-type')).toBe('video/mp4');
      expect(got.bytes.equals(Buffer.from(video))).toBe(true);
    }
    const sensorBytes = await download(two.baseUrl, id, 'sensors');
    expect(sensorBytes.bytes.equals(Buffer.from(sensors))).toBe(true);
  });

  it("an SDK's retry of a create lands on the other instance: the first answer again, one episode, URLs that work", async () => {
    // The SDKs send a fresh Idempotency-Key per create and the same key on a retry; behind a load balancer the
    // retry can reach another instance. The key names the episode (its id derives from it), so instance 2
    // answers what instance 1 did, its S3 URLs presigned again as of the episode's creation: the same URLs.
    const body = { source: 'real', name: 'retried across instances', request_uploads: ['video', 'sensors'] };
    const headers = { headers: { 'idempotency-key': `retry-${randomBytes(8).toString('hex')}` } };
    const first = await api(one.baseUrl, TEST_API_KEY).post<CreateEpisodeResponse>(
      '/api/ingest/episode',
      body,
      headers,
    );
    expect(first.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1100)); // a presign one second later would differ (X-Amz-Date)
    const retry = await api(two.baseUrl, TEST_API_KEY).post<CreateEpisodeResponse>(
      '/api/ingest/episode',
      body,
      headers,
    );
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    // The same answer, but for the portal link, which names the origin that answered (here each instance has
    // its own; behind one public URL they are the same).
    expect({ ...retry.body, portal_url: '' }).toEqual({ ...first.body, portal_url: '' });
    expect(retry.body.portal_url).toBe(`${two.baseUrl}/portal/episodes/${first.body.episode_id}`);
    const listed = await api(two.baseUrl, TEST_API_KEY).get<{ data: Episode[] }>(
      `/api/episodes?q=${encodeURIComponent('retried across instances')}`,
    );
    expect(listed.body.data.map((e) => e.id)).toEqual([first.body.episode_id]);
    const video = retry.body.upload_urls.find((u) => u.kind === 'video');
    expect((await put(video?.url ?? '', new Uint8Array(randomBytes(1000)), 'video/mp4')).status).toBeLessThan(
      400,
    );
    const other = await api(two.baseUrl, TEST_API_KEY).post(
      '/api/ingest/episode',
      { ...body, name: 'another body' },
      headers,
    );
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'conflict', details: { reason: 'idempotency_key_reused' } });
  });

  it('serves range requests on the presigned GET (the video player seeks)', async () => {
    const created = await api(two.baseUrl, TEST_API_KEY).post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['video'],
    });
    const video = new Uint8Array(randomBytes(100_000));
    expect((await put(created.body.upload_urls[0]?.url ?? '', video, 'video/mp4')).status).toBeLessThan(400);
    const id = created.body.episode_id;
    const fin = await api(one.baseUrl, TEST_API_KEY).post(`/api/ingest/episode/${id}/finalize`, {
      status: 'ready',
    });
    expect(fin.status).toBe(200);
    const got = await download(one.baseUrl, id, 'video', 'bytes=50000-50999');
    expect(got.res.status).toBe(206);
    expect(got.res.headers.get('content-range')).toBe(`bytes 50000-50999/${video.length}`);
    expect(got.bytes.equals(Buffer.from(video.subarray(50_000, 51_000)))).toBe(true);
    const tail = await download(two.baseUrl, id, 'video', 'bytes=-10');
    expect(tail.res.status).toBe(206);
    expect(tail.bytes.equals(Buffer.from(video.subarray(-10)))).toBe(true);
  });

  it('honours on one instance the upload URL and artifact redirect the other handed out', async () => {
    const created = await api(one.baseUrl, TEST_API_KEY).post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['sensors'],
    });
    const id = created.body.episode_id;
    // A fresh URL asked of instance 2 for the slot instance 1 created.
    const fresh = await api(two.baseUrl, TEST_API_KEY).post<{ url: string }>(
      `/api/ingest/episode/${id}/upload-url`,
      { kind: 'sensors' },
    );
    expect(fresh.status).toBe(200);
    const bytes = new Uint8Array(randomBytes(2_000));
    expect((await put(fresh.body.url, bytes, 'application/octet-stream')).status).toBeLessThan(400);
    // Before finalize, a read stats the bucket (the upload bypassed both instances).
    const early = await download(one.baseUrl, id, 'sensors');
    expect(early.bytes.equals(Buffer.from(bytes))).toBe(true);
    const fin = await api(one.baseUrl, TEST_API_KEY).post<Episode>(`/api/ingest/episode/${id}/finalize`, {
      status: 'ready',
    });
    expect(fin.body.artifacts[0]?.size_bytes).toBe(bytes.length);
  });

  it('refuses at finalize an upload over the size limit, deletes it, and lets the client recover', async () => {
    const created = await api(one.baseUrl, TEST_API_KEY).post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['actions'],
    });
    const id = created.body.episode_id;
    const key = new URL(created.body.upload_urls[0]?.url ?? '').pathname.replace(`/${BUCKET}/`, '');
    // A presigned PUT cannot cap the body: the bucket takes it...
    const big = new Uint8Array(randomBytes(ACTIONS_LIMIT * 5));
    expect(
      (await put(created.body.upload_urls[0]?.url ?? '', big, 'application/octet-stream')).status,
    ).toBeLessThan(400);
    // ...and the finalize that would make it part of the episode refuses it.
    const refused = await api(two.baseUrl, TEST_API_KEY).post(`/api/ingest/episode/${id}/finalize`, {
      status: 'ready',
    });
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ code: 'payload_too_large' });
    expect(String(refused.body.error)).toContain(`actions is ${big.length} bytes (limit ${ACTIONS_LIMIT})`);
    await expect(s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    const still = await api(one.baseUrl, TEST_API_KEY).get<Episode>(`/api/episodes/${id}`);
    expect(still.body.status).toBe('recording');
    expect(still.body.artifacts[0]).toMatchObject({ kind: 'actions', uploaded: false, size_bytes: null });
    expect((await api(two.baseUrl, TEST_API_KEY).get(`/api/episodes/${id}/artifact/actions`)).status).toBe(
      404,
    );

    // Recovery: a smaller file through a fresh URL, then the same finalize succeeds.
    const fresh = await api(two.baseUrl, TEST_API_KEY).post<{ url: string }>(
      `/api/ingest/episode/${id}/upload-url`,
      { kind: 'actions' },
    );
    const small = new Uint8Array(randomBytes(ACTIONS_LIMIT));
    expect((await put(fresh.body.url, small, 'application/octet-stream')).status).toBeLessThan(400);
    const ok = await api(one.baseUrl, TEST_API_KEY).post<Episode>(`/api/ingest/episode/${id}/finalize`, {
      status: 'ready',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.artifacts[0]).toMatchObject({ uploaded: true, size_bytes: ACTIONS_LIMIT });
  });

  it('a failed finalize with an oversized upload succeeds and keeps nothing', async () => {
    const created = await api(two.baseUrl, TEST_API_KEY).post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['actions'],
    });
    const url = created.body.upload_urls[0]?.url ?? '';
    await put(url, new Uint8Array(ACTIONS_LIMIT + 1), 'application/octet-stream');
    const fin = await api(one.baseUrl, TEST_API_KEY).post<Episode>(
      `/api/ingest/episode/${created.body.episode_id}/finalize`,
      { status: 'failed', metadata: { failure_reason: 'gripper fault' } },
    );
    expect(fin.status).toBe(200);
    expect(fin.body.artifacts[0]).toMatchObject({ uploaded: false, size_bytes: null });
    expect(fin.body.bytes_total).toBe(0);
  });

  it('enforces on instance 2 a rate limit reached through instance 1 (the buckets live in PostgreSQL)', async () => {
    // A key of its own, so the other tests' key keeps its budget.
    const out = execFileSync(
      process.execPath,
      ['apps/web/dist/admin.js', 'create-key', '--project', 'demo', '--name', 'rate'],
      { env: { ...process.env, DATABASE_URL: databaseUrl, ROBOTRACE_SECRET: SECRET }, encoding: 'utf8' },
    );
    const key = /ROBOTRACE_API_KEY=(\S+)/.exec(out)?.[1] ?? '';
    const first = api(one.baseUrl, key);
    let allowed = 0;
    for (; allowed <= RATE_LIMIT_PER_MINUTE * 2; allowed++) {
      if ((await first.get('/api/episodes?limit=1')).status === 429) break;
    }
    // The burst is one minute's worth (a token may refill while we spend them).
    expect(allowed).toBeGreaterThanOrEqual(RATE_LIMIT_PER_MINUTE);
    expect(allowed).toBeLessThanOrEqual(RATE_LIMIT_PER_MINUTE + 2);
    // The bucket is now below one token; it takes 60/30 = 2 s to earn one, so of three quick calls on
    // instance 2 at most one can pass.
    const second = api(two.baseUrl, key);
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await second.get('/api/episodes?limit=1'));
    const limited = replies.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(limited[0]?.body).toMatchObject({ code: 'rate_limited' });
    expect(Number(limited[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The first key was never limited by this.
    expect((await api(two.baseUrl, TEST_API_KEY).get('/api/episodes?limit=1')).status).toBe(200);
  });
});

describe('scale-out: app-signed URLs and sessions across instances (local disk shared by both)', () => {
  let one: TestServer;
  let two: TestServer;
  let dataDir: string;

  beforeAll(async () => {
    // Both instances mount the same artifact directory (as with NFS) and share the secret that signs URLs.
    dataDir = mkdtempSync(join(tmpdir(), 'rt-shared-'));
    const env = { DATABASE_URL: await pg.createDatabase(), ROBOTRACE_SECRET: SECRET };
    one = await startServer({ env, dataDir });
    two = await startServer({ env: { ...env, ROBOTRACE_MIGRATE_ON_START: '' }, dataDir });
  });
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a signed upload URL from instance 1 works on instance 2, and a download URL from 2 on 1', async () => {
    const created = await api(one.baseUrl, TEST_API_KEY).post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['video'],
    });
    const url = created.body.upload_urls[0]?.url ?? '';
    expect(url.startsWith(`${one.baseUrl}/api/storage/`)).toBe(true);
    const video = new Uint8Array(randomBytes(10_000));
    const tampered = url.replace(/sig=[^&]{4}/, 'sig=AAAA');
    expect((await put(tampered.replace(one.baseUrl, two.baseUrl), video, 'video/mp4')).status).toBe(403);
    expect((await put(url.replace(one.baseUrl, two.baseUrl), video, 'video/mp4')).status).toBe(200);
    const id = created.body.episode_id;
    expect(
      (await api(two.baseUrl, TEST_API_KEY).post(`/api/ingest/episode/${id}/finalize`, { status: 'ready' }))
        .status,
    ).toBe(200);
    const r = await fetch(`${two.baseUrl}/api/episodes/${id}/artifact/video`, {
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
      redirect: 'manual',
    });
    const location = r.headers.get('location') ?? '';
    expect(location.startsWith(`${two.baseUrl}/api/storage/`)).toBe(true);
    const got = await fetch(location.replace(two.baseUrl, one.baseUrl));
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(video))).toBe(true);
  });

  it('a portal session signed in on instance 1 is honoured by instance 2', async () => {
    const signIn = await fetch(`${one.baseUrl}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: one.baseUrl },
      body: JSON.stringify({ email: TEST_EMAIL, password: TEST_PASSWORD }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    expect(cookie).toContain('session_token');
    const page = await fetch(`${two.baseUrl}/portal/episodes`, { headers: { cookie }, redirect: 'manual' });
    expect(page.status).toBe(200);
    const anonymous = await fetch(`${two.baseUrl}/portal/episodes`, { redirect: 'manual' });
    expect(anonymous.status).toBeGreaterThanOrEqual(300);
  });
});
