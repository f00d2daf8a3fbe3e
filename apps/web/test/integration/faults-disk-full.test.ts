import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { CreateEpisodeResponse, Episode } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allEpisodes,
  ensureSdkVenv,
  mountTinyFs,
  runPython,
  VENV_SETUP_MS,
} from '../../../../test/faults/support.js';
import { api } from '../../../../test/support/api.js';
import { startServer, type TestServer } from '../../../../test/support/server.js';

/**
 * Fault: the local artifact disk is full. The artifacts dir of the data dir is a 2 MiB filesystem; an upload
 * larger than the free space answers 507 with a clear error, leaves no partial file, and leaves the database
 * consistent: the slot is not marked uploaded, the space is released for the next upload, finalize works.
 */
const DISK_MIB = 2;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .filter((p) => !p.startsWith('lost+found'));
}

describe('fault: disk full for local storage', () => {
  let dataDir: string;
  let artifacts: string;
  let files: string;
  let unmount: (() => void) | undefined;
  let server: TestServer;

  beforeAll(async () => {
    ensureSdkVenv();
    dataDir = mkdtempSync(join(tmpdir(), 'robotrace-diskfull-'));
    artifacts = join(dataDir, 'artifacts');
    mkdirSync(artifacts);
    ({ unmount } = mountTinyFs(artifacts, DISK_MIB));
    files = mkdtempSync(join(tmpdir(), 'robotrace-faults-'));
    server = await startServer({ dataDir });
  }, VENV_SETUP_MS);
  afterAll(async () => {
    await server?.stop();
    unmount?.();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (files) rmSync(files, { recursive: true, force: true });
  });

  const put = (url: string, body: Uint8Array | ReadableStream<Uint8Array>, type: string) =>
    fetch(url, {
      method: 'PUT',
      body,
      headers: { 'content-type': type },
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);

  it('507 with a clear error, no partial file, slot not marked, space released, finalize works', async () => {
    const client = api(server.baseUrl, server.apiKey);
    const created = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'real',
      name: 'disk-full',
      request_uploads: ['video', 'sensors'],
    });
    expect(created.status).toBe(201);
    const urls = Object.fromEntries(created.body.upload_urls.map((u) => [u.kind, u.url]));
    const id = created.body.episode_id;

    // With Content-Length (the SDKs send one): the write fails part-way with ENOSPC.
    const big = await put(urls.video ?? '', new Uint8Array(randomBytes(3 * 1024 * 1024)), 'video/mp4');
    expect(big.status).toBe(507);
    const error = (await big.json()) as { error: string; code: string };
    expect(error.code).toBe('insufficient_storage');
    expect(error.error).toMatch(/disk is full; nothing was stored/);
    expect(filesUnder(artifacts)).toEqual([]);

    // Chunked, without Content-Length: the same answer, the same clean disk.
    const chunks = [randomBytes(1024 * 1024), randomBytes(1024 * 1024), randomBytes(1024 * 1024)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(new Uint8Array(next));
        else controller.close();
      },
    });
    const chunked = await put(urls.video ?? '', stream, 'video/mp4');
    expect(chunked.status).toBe(507);
    expect(filesUnder(artifacts)).toEqual([]);

    let episode = await client.get<Episode>(`/api/episodes/${id}`);
    expect(episode.body.artifacts.find((a) => a.kind === 'video')).toMatchObject({
      uploaded: false,
      size_bytes: null,
    });
    expect((await client.get(`/api/episodes/${id}/artifact/video`)).status).toBe(404);

    // The failed writes released their space: a file that fits is stored whole.
    const sensors = randomBytes(1024 * 1024);
    const ok = await put(urls.sensors ?? '', new Uint8Array(sensors), 'application/octet-stream');
    expect(ok.status).toBe(200);

    const finalized = await client.post<Episode>(`/api/ingest/episode/${id}/finalize`, { status: 'ready' });
    expect(finalized.status).toBe(200);
    episode = await client.get<Episode>(`/api/episodes/${id}`);
    expect(episode.body.status).toBe('ready');
    expect(episode.body.bytes_total).toBe(sensors.length);
    const byKind = Object.fromEntries(
      episode.body.artifacts.map((a) => [a.kind, [a.uploaded, a.size_bytes]]),
    );
    expect(byKind).toEqual({ video: [false, null], sensors: [true, sensors.length] });
    const redirect = await client.get(`/api/episodes/${id}/artifact/sensors`);
    expect(redirect.status).toBe(302);
    const stored = await fetch(new URL(redirect.headers.get('location') ?? '', server.baseUrl));
    expect(Buffer.from(await stored.arrayBuffer()).equals(sensors)).toBe(true);
    expect(filesUnder(artifacts).filter((f) => f.endsWith('.part'))).toEqual([]);
    // The server stays healthy (it is the disk that is full, not the server that is broken).
    expect((await client.get('/api/health')).status).toBe(200);
  });

  it('the Python SDK raises one line and leaves the episode failed with the reason', async () => {
    writeFileSync(join(files, 'video.mp4'), randomBytes(3 * 1024 * 1024));
    const name = `disk-full-sdk-${randomBytes(3).toString('hex')}`;
    const run = runPython('sdk_faults.py', [
      'upload-refused',
      '--files',
      files,
      '--base-url',
      server.baseUrl,
      '--api-key',
      server.apiKey,
      '--name',
      name,
    ]);
    expect(await run.exited(90_000), run.stderr()).toBe(0);
    expect(run.events[0]).toMatchObject({
      ok: true,
      raised: 'ServerError',
      status_code: 507,
      one_line: true,
    });
    expect(String(run.events[0]?.message)).toMatch(/disk is full/);
    const [episode, ...others] = await allEpisodes(server.baseUrl, server.apiKey, name);
    expect(others).toEqual([]);
    expect(episode?.status).toBe('failed');
    expect(String(episode?.metadata.failure_reason)).toMatch(/upload of video failed: .*disk is full/);
    expect(episode?.artifacts).toEqual([expect.objectContaining({ kind: 'video', uploaded: false })]);
    expect(filesUnder(artifacts).filter((f) => f.endsWith('.part'))).toEqual([]);
  }, 90_000);
});
