import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoboTrace } from '../../../../packages/sdk-ts/src/client.js';
import { MOTO_CREDENTIALS, startMoto, type TestS3 } from '../../../../test/support/moto.js';
import { startServer, type TestServer } from '../../../../test/support/server.js';

/**
 * Resumable uploads (issue 18) against the started server, on the local disk and on S3 (moto): a file above
 * the threshold goes in parts and arrives byte for byte; a whole-file SHA-256 that does not match at complete
 * is a 422 and nothing is stored; with part checksums, a part whose bytes are not the ones hashed into its
 * URL is refused (at the PUT, or at complete by the composite checksum) and nothing is stored; deleting the
 * episode mid-upload aborts the upload (its parts are gone from the store, a part URL signed before stores nothing).
 */
const dir = mkdtempSync(join(tmpdir(), 'robotrace-multipart-'));
const MiB = 1024 * 1024;
const video = join(dir, 'big.mp4');
const bytes = Buffer.alloc(21 * MiB + 12_344); // 3 parts of 8 MiB, the last one short
for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE(i, i);
writeFileSync(video, bytes);

async function api(server: TestServer, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function storedVideo(server: TestServer, id: string): Promise<Buffer> {
  const redirect = await fetch(`${server.baseUrl}/api/episodes/${id}/artifact/video`, {
    headers: { authorization: `Bearer ${server.apiKey}` },
    redirect: 'manual',
  });
  expect(redirect.status).toBe(302);
  const file = await fetch(new URL(redirect.headers.get('location') ?? '', server.baseUrl));
  return Buffer.from(await file.arrayBuffer());
}

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * `refusesAtPut`: the store checks a part's signed SHA-256 when it arrives. The local store and S3 do (S3:
 * 400 BadDigest); moto 5.2.5 stores the part, so there complete must catch it (S3's composite checksum,
 * which moto computes from the stored bytes, is not the declared parts').
 */
/** `uploadsInProgress`: how many uploads the store holds unfinished (S3: ListMultipartUploads; local: its dirs). */
function cases(
  name: string,
  start: () => Promise<TestServer>,
  refusesAtPut: boolean,
  uploadsInProgress: (server: TestServer) => Promise<number>,
) {
  describe(name, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await start();
    }, 120_000);
    afterAll(() => server?.stop());

    it('background delivery sends a file above the threshold in parts; it arrives byte for byte', async () => {
      const client = new RoboTrace({
        apiKey: server.apiKey,
        baseUrl: server.baseUrl,
        env: {},
        quiet: true,
        delivery: 'background',
        spoolDir: join(dir, `spool-${name}`),
        multipartThresholdBytes: 8 * MiB,
      });
      const ep = await client.logEpisode({ name: `multipart ${name}`, video });
      expect(await ep.delivered(120_000)).toBe(true);
      expect((await storedVideo(server, ep.id)).equals(bytes)).toBe(true);
      // It went in parts, not as one PUT: the server logged the completed multipart upload.
      expect(server.output()).toMatch(
        new RegExp(`multipart upload stored episode_id="${ep.id}" kind="video" size_bytes=${bytes.length}`),
      );
      const stored = await api(server, 'GET', `/api/episodes/${ep.id}`);
      expect(stored.body).toMatchObject({ status: 'ready' });
      await client.close();
    }, 180_000);

    it('blocking delivery sends a file above the threshold in parts too; it arrives byte for byte', async () => {
      const client = new RoboTrace({
        apiKey: server.apiKey,
        baseUrl: server.baseUrl,
        env: {},
        quiet: true,
        multipartThresholdBytes: 8 * MiB,
      });
      const sent: number[] = [];
      const ep = await client.logEpisode({
        name: `blocking multipart ${name}`,
        video,
        onProgress: (p) => sent.push(p.sentBytes),
      });
      expect((await storedVideo(server, ep.id)).equals(bytes)).toBe(true);
      expect(server.output()).toMatch(
        new RegExp(`multipart upload stored episode_id="${ep.id}" kind="video" size_bytes=${bytes.length}`),
      );
      expect(sent.at(-1)).toBe(bytes.length); // progress reached the whole file, part by part
      await client.close();
    }, 180_000);

    it('a SHA-256 that does not match the parts is a 422 at complete, and nothing is stored', async () => {
      const created = await api(server, 'POST', '/api/ingest/episode', {
        source: 'sim',
        name: `bad hash ${name}`,
        request_uploads: ['video'],
      });
      const id = String(created.body.episode_id);
      const size = 6 * MiB;
      const wrong = createHash('sha256').update('not these bytes').digest('hex');
      const started = await api(server, 'POST', `/api/ingest/episode/${id}/uploads`, {
        kind: 'video',
        size_bytes: size,
        sha256: wrong,
      });
      expect(started.status).toBe(201);
      expect(started.body).toMatchObject({ part_count: 1, parts: [] });
      const upload = encodeURIComponent(String(started.body.upload_id));
      const signed = await api(server, 'POST', `/api/ingest/episode/${id}/uploads/${upload}/parts`, {
        part_numbers: [1],
      });
      const [part] = signed.body.urls as Array<{ url: string }>;
      const put = await fetch(new URL(part?.url ?? '', server.baseUrl), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes.subarray(0, size),
      });
      expect(put.status).toBe(200);
      const etag = (put.headers.get('etag') ?? '').replace(/"/g, '');
      const resumed = await api(server, 'GET', `/api/ingest/episode/${id}/uploads/${upload}`);
      expect(resumed.body.parts).toEqual([{ part_number: 1, size_bytes: size, etag }]);
      const done = await api(server, 'POST', `/api/ingest/episode/${id}/uploads/${upload}/complete`, {
        parts: [{ part_number: 1, etag }],
      });
      expect(done.status).toBe(422);
      expect(done.body).toMatchObject({ code: 'validation_error' });
      expect(String(done.body.error)).toMatch(/not the announced one/);
      const artifact = await fetch(`${server.baseUrl}/api/episodes/${id}/artifact/video`, {
        headers: { authorization: `Bearer ${server.apiKey}` },
        redirect: 'manual',
      });
      expect(artifact.status).toBe(404);
    }, 60_000);

    // S3 only: the local store drops an upload's parts at complete, so a second complete there is a 422.
    if (name.startsWith('S3'))
      it('a complete retried after its answer was lost (a big one can outlast the client timeout) answers stored again', async () => {
        const created = await api(server, 'POST', '/api/ingest/episode', {
          source: 'sim',
          name: `retried complete ${name}`,
          request_uploads: ['video'],
        });
        const id = String(created.body.episode_id);
        const size = 6 * MiB;
        const part = bytes.subarray(0, size);
        const started = await api(server, 'POST', `/api/ingest/episode/${id}/uploads`, {
          kind: 'video',
          size_bytes: size,
        });
        const upload = encodeURIComponent(String(started.body.upload_id));
        const signed = await api(server, 'POST', `/api/ingest/episode/${id}/uploads/${upload}/parts`, {
          parts: [{ part_number: 1, sha256: sha256Hex(part) }],
        });
        const [url] = signed.body.urls as Array<{ url: string; headers: Record<string, string> }>;
        const put = await fetch(new URL(url?.url ?? '', server.baseUrl), {
          method: 'PUT',
          headers: { ...url?.headers, 'content-type': 'application/octet-stream' },
          body: part,
        });
        const etag = (put.headers.get('etag') ?? '').replace(/"/g, '');
        const body = { parts: [{ part_number: 1, etag, sha256: sha256Hex(part) }], sha256: sha256Hex(part) };
        const path = `/api/ingest/episode/${id}/uploads/${upload}/complete`;
        const first = await api(server, 'POST', path, body);
        const again = await api(server, 'POST', path, body);
        expect(first).toMatchObject({ status: 200, body: { status: 'stored', size_bytes: size } });
        expect(again).toMatchObject({ status: 200, body: { status: 'stored', size_bytes: size } });
        expect((await storedVideo(server, id)).equals(part)).toBe(true);
      }, 60_000);

    it('with part checksums, a part whose bytes differ from its signed SHA-256 is refused; nothing is stored', async () => {
      const created = await api(server, 'POST', '/api/ingest/episode', {
        source: 'sim',
        name: `corrupt part ${name}`,
        request_uploads: ['video'],
      });
      const id = String(created.body.episode_id);
      const size = 6 * MiB;
      const good = bytes.subarray(0, size);
      const started = await api(server, 'POST', `/api/ingest/episode/${id}/uploads`, {
        kind: 'video',
        size_bytes: size,
      });
      expect(started.body).toMatchObject({ part_checksums: true, sha256: null, part_count: 1 });
      const upload = encodeURIComponent(String(started.body.upload_id));
      const partsPath = `/api/ingest/episode/${id}/uploads/${upload}/parts`;
      const unhashed = await api(server, 'POST', partsPath, { part_numbers: [1] });
      expect(unhashed.status).toBe(400);
      expect(String(unhashed.body.error)).toMatch(/part checksums/);
      const signed = await api(server, 'POST', partsPath, {
        parts: [{ part_number: 1, sha256: sha256Hex(good) }],
      });
      const [part] = signed.body.urls as Array<{ url: string; headers: Record<string, string> }>;
      const corrupt = Buffer.from(good);
      corrupt[1234] = (corrupt[1234] ?? 0) ^ 0xff; // one flipped byte
      const put = await fetch(new URL(part?.url ?? '', server.baseUrl), {
        method: 'PUT',
        headers: { ...part?.headers, 'content-type': 'application/octet-stream' },
        body: corrupt,
      });
      if (refusesAtPut) {
        expect(put.status).toBe(400);
        const resumed = await api(server, 'GET', `/api/ingest/episode/${id}/uploads/${upload}`);
        expect(resumed.body.parts).toEqual([]); // nothing kept of the refused part
      } else {
        expect(put.status).toBe(200);
        const etag = (put.headers.get('etag') ?? '').replace(/"/g, '');
        const done = await api(server, 'POST', `/api/ingest/episode/${id}/uploads/${upload}/complete`, {
          parts: [{ part_number: 1, etag, sha256: sha256Hex(good) }],
          sha256: sha256Hex(good),
        });
        expect(done.status).toBe(422);
        expect(String(done.body.error)).toMatch(/not the announced one/);
      }
      const artifact = await fetch(`${server.baseUrl}/api/episodes/${id}/artifact/video`, {
        headers: { authorization: `Bearer ${server.apiKey}` },
        redirect: 'manual',
      });
      expect(artifact.status).toBe(404);
    }, 60_000);

    it('deleting the episode mid-upload aborts the upload: its parts go, a part URL signed before stores nothing', async () => {
      const created = await api(server, 'POST', '/api/ingest/episode', {
        source: 'sim',
        name: `deleted mid-upload ${name}`,
        request_uploads: ['video'],
      });
      const id = String(created.body.episode_id);
      const file = new Uint8Array(bytes.subarray(0, 12 * MiB));
      const started = await api(server, 'POST', `/api/ingest/episode/${id}/uploads`, {
        kind: 'video',
        size_bytes: file.length,
        sha256: sha256Hex(file),
        part_size_bytes: 8 * MiB,
      });
      expect(started.body).toMatchObject({ part_count: 2 });
      const upload = encodeURIComponent(String(started.body.upload_id));
      const signed = await api(server, 'POST', `/api/ingest/episode/${id}/uploads/${upload}/parts`, {
        part_numbers: [1, 2],
      });
      const [first, second] = signed.body.urls as Array<{ url: string }>;
      const put = (url: string | undefined, body: Uint8Array<ArrayBuffer>) =>
        fetch(new URL(url ?? '', server.baseUrl), {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
          body,
        });
      expect((await put(first?.url, file.subarray(0, 8 * MiB))).status).toBe(200);
      const before = await uploadsInProgress(server);
      expect(before).toBeGreaterThan(0);
      const deleted = await api(server, 'DELETE', `/api/episodes/${id}`);
      expect(deleted).toMatchObject({ status: 200, body: { deleted: true } });
      expect(deleted.body.pending_storage).toBeUndefined();
      expect(await uploadsInProgress(server)).toBe(before - 1);
      const late = await put(second?.url, file.subarray(8 * MiB));
      expect(late.status).toBeGreaterThanOrEqual(400);
      expect(await uploadsInProgress(server)).toBe(before - 1);
      expect((await api(server, 'GET', `/api/episodes/${id}`)).status).toBe(404);
    }, 60_000);
  });
}

const localUploads = async (server: TestServer) =>
  readdirSync(join(server.dataDir, 'artifacts', '.uploads')).length;
cases('local disk', () => startServer(), true, localUploads);

let s3: TestS3 | undefined;
afterAll(() => s3?.stop());
cases(
  'S3 (moto)',
  async () => {
    s3 = await startMoto();
    await s3.createBucket('robotrace-multipart');
    return startServer({
      env: {
        ROBOTRACE_STORAGE: 's3',
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: 'robotrace-multipart',
        S3_REGION: 'us-east-1',
        S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        S3_FORCE_PATH_STYLE: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
  },
  false,
  async () => {
    const listed = await s3?.client.send(new ListMultipartUploadsCommand({ Bucket: 'robotrace-multipart' }));
    return listed?.Uploads?.length ?? 0;
  },
);
