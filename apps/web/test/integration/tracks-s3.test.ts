import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_CREDENTIALS, startMoto, type TestS3 } from '../../../../test/support/moto.js';
import { startServer, type TestServer } from '../../../../test/support/server.js';

/**
 * Replay on S3 (moto): clients PUT sensors/actions straight to the bucket, so the app first hears of them at
 * finalize. The track list indexes them then, reading the objects by ranged GETs through the store port
 * (ArtifactStore.readRange), and windows read them the same way.
 */
const ROOT = resolve(import.meta.dirname, '../../../..');
const BUCKET = 'robotrace-tracks';
const dir = mkdtempSync(join(tmpdir(), 'robotrace-tracks-s3-'));
let s3: TestS3;
let server: TestServer;

const call = async (path: string, body?: unknown) => {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  execFileSync(join(ROOT, '.cache/venv-sdk/bin/python'), [
    join(ROOT, 'test/fixtures/tracks/make_tracks.py'),
    dir,
  ]);
  s3 = await startMoto();
  await s3.createBucket(BUCKET);
  server = await startServer({
    env: {
      ROBOTRACE_STORAGE: 's3',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: BUCKET,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      S3_FORCE_PATH_STYLE: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
}, 300_000);
afterAll(async () => {
  await server?.stop();
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay tracks on S3', () => {
  it('indexes NPZ (numpy) and Parquet (pyarrow) uploaded to the bucket, and reads windows by range', async () => {
    const created = await call('/api/ingest/episode', {
      source: 'sim',
      fps: 50,
      request_uploads: ['sensors', 'actions'],
    });
    expect(created.status).toBe(201);
    expect(created.json.storage).toBe('s3');
    const id = String(created.json.episode_id);
    const files: Record<string, string> = { sensors: 'gym_compressed.npz', actions: 'actions.parquet' };
    for (const slot of created.json.upload_urls as { kind: string; url: string }[]) {
      const put = await fetch(slot.url, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: readFileSync(join(dir, files[slot.kind] as string)),
      });
      expect(put.status, slot.kind).toBe(200);
    }
    expect(
      (await call(`/api/ingest/episode/${id}/finalize`, { status: 'ready', duration_s: 1 })).status,
    ).toBe(200);

    const listed = await call(`/api/episodes/${id}/tracks`);
    expect(listed.status).toBe(200);
    const tracks = listed.json.tracks as { name: string; artifact_kind: string; samples: number }[];
    expect(tracks.map((t) => `${t.artifact_kind}:${t.name}`)).toEqual([
      'sensors:action/value',
      'sensors:observation/value',
      'actions:gripper',
      'actions:arm/joint0',
    ]);
    expect(listed.json.warnings).toEqual(["actions.parquet: column 'label' is not numeric — skipped"]);
    // action/value = step × 0.5 at 50 Hz (make_tracks.py): the sample at 200 ms is step 10.
    const win = await call(
      `/api/episodes/${id}/tracks/action%2Fvalue?from_ns=200000000&to_ns=200000000&points=10`,
    );
    expect(win.status).toBe(200);
    expect((win.json.series as { min: number[] }[])[0]?.min).toEqual([5]);
    const joint = await call(`/api/episodes/${id}/tracks/arm%2Fjoint0?points=100`);
    expect(joint.json.samples).toBe(50);
    expect((joint.json.series as { min: number[] }[])[0]?.min.slice(0, 3)).toEqual([0, 1, 2]);
    // A second list is the same (the index is kept; the upload is not indexed again once it has one).
    expect((await call(`/api/episodes/${id}/tracks`)).json).toEqual(listed.json);
  });
});
