import { connect, createServer, type Server, type Socket } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  type DeleteEpisodeResponse,
  type Episode,
  ExportedEpisode,
  type Retention,
} from '@robotrace/contracts';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../../test/support/api.js';
import { seedEpisode, sweptInLog, until } from '../../../../test/support/lifecycle.js';
import { MOTO_CREDENTIALS, startMoto, type TestS3 } from '../../../../test/support/moto.js';
import { freePort, startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { startServer, TEST_API_KEY, type TestServer } from '../../../../test/support/server.js';
import { runNode } from '../support/run-node.js';

/**
 * Data lifecycle on PostgreSQL + S3 (moto) with two instances: a delete removes the objects from the bucket and
 * the episode from both instances; retention set by the admin command is swept by both instances at once, and
 * each expired episode is deleted exactly once (the sweep lock); the promoted one is kept.
 */
const SECRET = 'lifecycle-s3-secret-'.padEnd(64, 'x');
const BUCKET = 'robotrace-lifecycle';
type Json = Record<string, unknown>;

let pgc: TestPostgres;
let s3: TestS3;
let one: TestServer;
let two: TestServer;
let databaseUrl: string;
let env: Record<string, string>;

beforeAll(async () => {
  [pgc, s3] = await Promise.all([startPostgres(), startMoto()]);
  await s3.createBucket(BUCKET);
  databaseUrl = await pgc.createDatabase();
  env = {
    DATABASE_URL: databaseUrl,
    ROBOTRACE_SECRET: SECRET,
    ROBOTRACE_STORAGE: 's3',
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: BUCKET,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    S3_FORCE_PATH_STYLE: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ROBOTRACE_SWEEP_INTERVAL_S: '1',
    ROBOTRACE_SWEEP_BATCH_SIZE: '3',
  };
  one = await startServer({ env });
  two = await startServer({ env: { ...env, ROBOTRACE_MIGRATE_ON_START: '' } });
}, 300_000);
afterAll(async () => {
  await Promise.all([one?.stop(), two?.stop()]);
  await Promise.all([pgc?.stop(), s3?.stop()]);
});

/** The object key of an S3 upload URL (`<endpoint>/<bucket>/<key>?…`). */
const keyOf = (url: string) => decodeURIComponent(new URL(url).pathname.split('/').slice(2).join('/'));
async function inBucket(url: string): Promise<boolean> {
  try {
    await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: keyOf(url) }));
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'NotFound') return false;
    throw err;
  }
}
const del = (base: string, id: string, headers: Record<string, string> = {}) =>
  api(base, TEST_API_KEY).call<Json>('DELETE', `/api/episodes/${id}`, undefined, { headers });

async function sql(text: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

describe('data lifecycle on PostgreSQL + S3, two instances', () => {
  it('a delete on one instance removes the objects and the episode from both; again is a 404', async () => {
    const e = await seedEpisode(one.baseUrl, TEST_API_KEY, { name: 'bucket-delete', bytes: 5000 });
    for (const u of e.urls) expect(await inBucket(u)).toBe(true);
    const r = await del(one.baseUrl, e.id, { 'idempotency-key': 'pg-del-1' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ deleted: true, artifacts_deleted: 2, bytes_freed: 10_000 });
    expect((r.body as unknown as DeleteEpisodeResponse).pending_storage).toBeUndefined();
    for (const u of e.urls) expect(await inBucket(u)).toBe(false);
    expect((await api(two.baseUrl, TEST_API_KEY).get(`/api/episodes/${e.id}`)).status).toBe(404);
    const replay = await del(two.baseUrl, e.id, { 'idempotency-key': 'pg-del-1' });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(r.body);
    expect((await del(two.baseUrl, e.id)).status).toBe(404);
  });

  it('export round-trips every field of the seeded episodes, with absolute artifact URLs that download', async () => {
    const seeded = [
      await seedEpisode(one.baseUrl, TEST_API_KEY, { name: 'export-a', bytes: 3000 }),
      await seedEpisode(two.baseUrl, TEST_API_KEY, { name: 'export-b', status: 'failed', bytes: 1000 }),
    ];
    const res = await fetch(`${two.baseUrl}/api/episodes/export?q=export-`, {
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => ExportedEpisode.parse(JSON.parse(l)));
    expect(lines.map((l) => l.id)).toEqual(seeded.map((e) => e.id).reverse());
    for (const line of lines) {
      const full = (await api(one.baseUrl, TEST_API_KEY).get<Episode>(`/api/episodes/${line.id}`)).body;
      const { artifacts, portal_url: _portal, ...fields } = full;
      const { artifacts: exported, portal_url: _exportedPortal, ...exportedFields } = line;
      expect(exportedFields).toEqual(fields);
      expect(line.otel).not.toBeNull();
      expect(exported).toEqual(
        artifacts.map((a) => ({
          kind: a.kind,
          url: a.url.replace(one.baseUrl, two.baseUrl),
          bytes: a.size_bytes,
          content_type: a.content_type,
        })),
      );
      for (const a of exported) {
        const r = await fetch(a.url, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
        expect((await r.arrayBuffer()).byteLength).toBe(a.bytes);
      }
    }
  });

  it('refuses a referenced episode (409) and deletes it with its links on request', async () => {
    const e = await seedEpisode(one.baseUrl, TEST_API_KEY, { name: 'pg-baseline' });
    const c = api(one.baseUrl, TEST_API_KEY);
    await c.post('/api/ingest/eval-run', { candidate_policy_version: 'v9', baseline_episode_ids: [e.id] });
    await c.post('/api/verify/promote', { baseline_episode_id: e.id, name: 'drawer' });
    const refused = await del(two.baseUrl, e.id);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'episode_referenced',
      details: { scenarios: [{ name: 'drawer' }] },
    });
    const done = await api(two.baseUrl, TEST_API_KEY).call<Json>(
      'DELETE',
      `/api/episodes/${e.id}?unlink_references=true`,
    );
    expect(done.body).toMatchObject({ references_removed: { eval_results: 1, scenarios: 1 } });
    for (const u of e.urls) expect(await inBucket(u)).toBe(false);
  });

  it('admin set-retention → both instances sweep at once; each expired episode is deleted once', async () => {
    const expired = [];
    for (let i = 0; i < 10; i += 1)
      expired.push(await seedEpisode(i % 2 ? one.baseUrl : two.baseUrl, TEST_API_KEY, { name: `old-${i}` }));
    const promoted = await seedEpisode(one.baseUrl, TEST_API_KEY, { name: 'old-promoted' });
    await api(one.baseUrl, TEST_API_KEY).post('/api/verify/promote', { baseline_episode_id: promoted.id });
    const young = await seedEpisode(two.baseUrl, TEST_API_KEY, { name: 'young' });
    // Ten days old, as if logged then (the server stamps created_at itself).
    await sql(`update episode set created_at = created_at - interval '10 days' where id = any($1::uuid[])`, [
      [...expired.map((e) => e.id), promoted.id],
    ]);
    const before = sweptInLog(one.output()) + sweptInLog(two.output());

    const set = await runNode(
      ['apps/web/dist/admin.js', 'set-retention', '--project', 'demo', '--days', '7', '--failed-days', 'off'],
      { ...env, ROBOTRACE_LOG_LEVEL: 'warn' },
    );
    expect(set.stderr).not.toMatch(/error/i);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('episodes kept 7 days');

    const refused = await runNode(
      ['apps/web/dist/admin.js', 'set-retention', '--project', 'demo', '--days', '0'],
      { ...env, ROBOTRACE_LOG_LEVEL: 'warn' },
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('keep_days');

    const c = api(two.baseUrl, TEST_API_KEY);
    await until('every expired episode is swept', async () => {
      const r = (await c.get<Retention>('/api/project/retention')).body;
      return r.next_sweep.episodes === 0;
    });
    for (const e of expired) {
      expect((await c.get(`/api/episodes/${e.id}`)).status).toBe(404);
      for (const u of e.urls) expect(await inBucket(u)).toBe(false);
    }
    for (const e of [promoted, young]) {
      expect((await c.get(`/api/episodes/${e.id}`)).status).toBe(200);
      for (const u of e.urls) expect(await inBucket(u)).toBe(true);
    }
    await until('both logs account for the sweeps', async () => {
      return sweptInLog(one.output()) + sweptInLog(two.output()) - before >= expired.length;
    });
    expect(sweptInLog(one.output()) + sweptInLog(two.output()) - before).toBe(expired.length);
    const retention = (await c.get<Retention>('/api/project/retention')).body;
    expect(retention).toMatchObject({ keep_days: 7, keep_failed_days: null });
    expect(retention.last_sweep).not.toBeNull();
    await api(one.baseUrl, TEST_API_KEY).call('PUT', '/api/project/retention', {
      keep_days: null,
      keep_failed_days: null,
    });
  });
});

/**
 * A TCP relay to moto that can be cut: the app's S3 calls go through it (S3_ENDPOINT), the clients' presigned
 * uploads go to moto directly (S3_PUBLIC_ENDPOINT). Cut, every connection is refused: S3 unreachable.
 */
async function s3Relay(target: string) {
  const { hostname, port: targetPort } = new URL(target);
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const open = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(targetPort), hostname);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => sock.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const sock of sockets) sock.destroy();
      server?.close(() => resolve());
    });
  await open();
  return { endpoint: `http://127.0.0.1:${port}`, open, cut };
}

describe('S3 refusing a delete (unreachable)', () => {
  let server: TestServer;
  let relay: Awaited<ReturnType<typeof s3Relay>>;
  beforeAll(async () => {
    relay = await s3Relay(s3.endpoint);
    server = await startServer({
      env: {
        ...env,
        DATABASE_URL: await pgc.createDatabase(),
        S3_ENDPOINT: relay.endpoint,
        S3_PUBLIC_ENDPOINT: s3.endpoint,
        ROBOTRACE_SWEEP_INTERVAL_S: '1',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await relay?.cut();
  });

  it('the episode is gone at once (200, pending_storage), the objects stay recorded and are removed once S3 answers', async () => {
    const e = await seedEpisode(server.baseUrl, TEST_API_KEY, { name: 's3-down' });
    await relay.cut();
    const r = await del(server.baseUrl, e.id);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ deleted: true, pending_storage: true });
    expect((await api(server.baseUrl, TEST_API_KEY).get(`/api/episodes/${e.id}`)).status).toBe(404);
    for (const u of e.urls) expect(await inBucket(u)).toBe(true);
    await relay.open();
    await until(
      'the sweeper removed the objects once S3 answered again',
      async () => {
        for (const u of e.urls) if (await inBucket(u)) return false;
        return true;
      },
      60_000,
    );
  });
});
