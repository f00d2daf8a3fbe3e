import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  type CreateEpisodeResponse,
  type DeleteEpisodeResponse,
  type Episode,
  ExportedEpisode,
  type Retention,
  type StorageUsage,
} from '@robotrace/contracts';
import {
  completeStorageDeletions,
  insightsSettled,
  pendingStorageDeletions,
  runSweep,
} from '@robotrace/core';
import { episodeInsight, storageDeletion, trackIndex } from '@robotrace/db';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useApp } from '../support/app.js';

/**
 * Data lifecycle on the app in process (PGlite, local disk): delete through the API (files gone, track index
 * and insights gone, 404 twice, an Idempotency-Key replayed), references refused and unlinked, a disk that
 * refuses a delete, retention preview + sweep (promoted scenarios kept), storage used, and the export.
 */
const DAY = 86_400_000;
const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
const app = useApp({ clock });
const OTHER_KEY = 'rt_other_project_key_for_lifecycle_01';
/** Retention is per project: its test has a project of its own, so other tests' episodes do not expire in it. */
const RET_KEY = 'rt_retention_project_key_lifecycle_1';
type Json = Record<string, unknown>;
const c = (key?: string) => app.current.client(key);

const del = (id: string, opts: { key?: string; idem?: string; unlink?: boolean } = {}) =>
  c(opts.key).call<Json>(
    'DELETE',
    `/api/episodes/${id}${opts.unlink ? '?unlink_references=true' : ''}`,
    undefined,
    { headers: opts.idem ? { 'idempotency-key': opts.idem } : {} },
  );

/** An episode with a video and a sensors file really uploaded, finalized as `status`. */
async function seeded(name: string, status: 'ready' | 'failed' = 'ready', key?: string) {
  const created = await c(key).post<CreateEpisodeResponse>('/api/ingest/episode', {
    source: 'sim',
    name,
    robot: 'arm-1',
    policy_version: 'pi-1',
    seed: 7,
    metadata: { task: 'pick', nested: { k: [1, 2] } },
    request_uploads: ['video', 'sensors'],
  });
  expect(created.status).toBe(201);
  const files: string[] = [];
  for (const [i, u] of created.body.upload_urls.entries()) {
    const put = await fetch(u.url, {
      method: 'PUT',
      body: new Uint8Array(1000 * (i + 1)).fill(3),
      headers: { 'content-type': u.kind === 'video' ? 'video/mp4' : 'application/octet-stream' },
    });
    expect(put.status).toBe(200);
    files.push(join(app.current.dataDir, 'artifacts', ...new URL(u.url).pathname.split('/').slice(3)));
  }
  const fin = await c(key).post(`/api/ingest/episode/${created.body.episode_id}/finalize`, {
    status,
    ...(status === 'failed' ? { failure_time_s: 0.5 } : {}),
  });
  expect(fin.status).toBe(200);
  return { id: created.body.episode_id, files };
}

describe('DELETE /api/episodes/{id}', () => {
  it('removes the row, its files, track index and insights; a second delete is a 404', async () => {
    const e = await seeded('to-delete', 'failed');
    const { db } = app.current.services.core;
    // The sensors upload was indexed (a replay track index row) and the failed finalize analysed (insights).
    expect(await db.select().from(trackIndex).where(eq(trackIndex.episodeId, e.id))).toHaveLength(1);
    await insightsSettled();
    expect(await db.select().from(episodeInsight).where(eq(episodeInsight.episodeId, e.id))).toHaveLength(1);
    expect(e.files.every((f) => existsSync(f))).toBe(true);
    const r = await del(e.id);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      episode_id: e.id,
      deleted: true,
      artifacts_deleted: 2,
      bytes_freed: 3000,
      references_removed: { eval_results: 0, scenarios: 0 },
    });
    expect(e.files.some((f) => existsSync(f))).toBe(false);
    expect(existsSync(dirname(e.files[0] ?? ''))).toBe(false);
    expect(await db.select().from(trackIndex).where(eq(trackIndex.episodeId, e.id))).toEqual([]);
    expect(await db.select().from(episodeInsight).where(eq(episodeInsight.episodeId, e.id))).toEqual([]);
    expect(await db.select().from(storageDeletion).where(eq(storageDeletion.episodeId, e.id))).toEqual([]);
    expect((await c().get(`/api/episodes/${e.id}`)).status).toBe(404);
    expect((await c().get<{ data: Episode[] }>('/api/episodes')).body.data.map((x) => x.id)).not.toContain(
      e.id,
    );
    const again = await del(e.id);
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ code: 'not_found' });
  });

  it("removes the replay's decoded copies of the episode's track data from the data dir", async () => {
    // numpy's savez_compressed deflates each array: the replay reads it through a decoded copy on disk.
    const npz = join(mkdtempSync(join(tmpdir(), 'robotrace-lifecycle-npz-')), 'actions.npz');
    const python = resolve(import.meta.dirname, '../../../../.cache/venv-sdk/bin/python');
    execFileSync(python, [
      '-c',
      'import numpy as np, sys; np.savez_compressed(sys.argv[1], **{"cmd/value": np.arange(600, dtype=np.float32).reshape(-1, 3)})',
      npz,
    ]);
    const created = await c().post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      name: 'replayed then deleted',
      fps: 10,
      request_uploads: ['actions'],
    });
    const id = created.body.episode_id;
    const cache = join(app.current.dataDir, 'cache', 'tracks');
    const before = new Set(existsSync(cache) ? readdirSync(cache) : []);
    const put = await fetch(created.body.upload_urls[0]?.url ?? '', {
      method: 'PUT',
      body: readFileSync(npz),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(200);
    expect((await c().post(`/api/ingest/episode/${id}/finalize`, { status: 'ready' })).status).toBe(200);
    const window = await c().get<{ samples: number }>(`/api/episodes/${id}/tracks/cmd%2Fvalue?points=50`);
    expect(window.status).toBe(200);
    expect(window.body.samples).toBe(200);
    const copies = readdirSync(cache).filter((d) => !before.has(d));
    expect(copies.length).toBeGreaterThan(0);
    expect((await del(id)).status).toBe(200);
    expect(copies.filter((d) => existsSync(join(cache, d)))).toEqual([]);
    expect((await c().get(`/api/episodes/${id}/tracks/cmd%2Fvalue?points=50`)).status).toBe(404);
  });

  it("answers 404 for another project's episode and leaves it whole", async () => {
    await app.current.addProject('other-lifecycle', OTHER_KEY);
    const e = await seeded('mine');
    expect((await del(e.id, { key: OTHER_KEY })).status).toBe(404);
    expect((await c().get(`/api/episodes/${e.id}`)).status).toBe(200);
    expect(e.files.every((f) => existsSync(f))).toBe(true);
  });

  it('replays an Idempotency-Key with the first answer; a fresh delete is a 404', async () => {
    const e = await seeded('idem');
    const first = await del(e.id, { idem: 'del-key-1' });
    expect(first.status).toBe(200);
    const replay = await del(e.id, { idem: 'del-key-1' });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect((await del(e.id, { idem: 'del-key-2' })).status).toBe(404);
  });

  it('refuses an episode referenced by an eval run and a scenario (409 naming them), then unlinks them', async () => {
    const e = await seeded('baseline');
    const run = await c().post<Json>('/api/ingest/eval-run', {
      candidate_policy_version: 'pi-2',
      baseline_episode_ids: [e.id],
      name: 'nightly',
    });
    const scenario = await c().post<Json>('/api/verify/promote', {
      baseline_episode_id: e.id,
      severity: 'critical',
      name: 'door',
    });
    const refused = await del(e.id);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'episode_referenced',
      details: {
        eval_runs: [{ id: run.body.eval_run_id, name: 'nightly' }],
        scenarios: [{ id: scenario.body.scenario_id, name: 'door' }],
      },
    });
    expect(String(refused.body.error)).toContain('nightly');
    expect((await c().get(`/api/episodes/${e.id}`)).status).toBe(200);
    expect(e.files.every((f) => existsSync(f))).toBe(true);

    const unlinked = await del(e.id, { unlink: true });
    expect(unlinked.status).toBe(200);
    expect((unlinked.body as unknown as DeleteEpisodeResponse).references_removed).toEqual({
      eval_results: 1,
      scenarios: 1,
    });
    expect(e.files.some((f) => existsSync(f))).toBe(false);
    const gate = await c().post<Json>('/api/verify/check', { candidate_policy_version: 'pi-2' });
    expect(gate.body.scenarios).toEqual([]);
  });

  it('a disk that refuses: gone from every read at once, pending_storage, retried by the sweep', async () => {
    const e = await seeded('stuck');
    // The store deletes the file and then its .meta; a directory in the .meta's place makes the disk refuse.
    const video = e.files[0] ?? '';
    const { mkdirSync, rmSync, writeFileSync } = await import('node:fs');
    rmSync(`${video}.meta`, { force: true });
    mkdirSync(`${video}.meta`);
    writeFileSync(join(`${video}.meta`, 'block'), 'x');
    const r = await del(e.id);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ deleted: true, pending_storage: true });
    expect((await c().get(`/api/episodes/${e.id}`)).status).toBe(404);
    const scope = { projectId: await projectOfKey(), episodeId: e.id };
    const pending = await pendingStorageDeletions(app.current.services.core, scope);
    expect(pending).toMatchObject({ files: 1, episodes: 1, failing: 1 });
    expect(pending.lastError).toMatch(/directory|EISDIR/i);

    rmSync(`${video}.meta`, { recursive: true, force: true });
    clock.advance(60 * 60_000);
    await completeStorageDeletions(app.current.services.core, { limit: 10 });
    expect(await pendingStorageDeletions(app.current.services.core, scope)).toMatchObject({ files: 0 });
    expect(existsSync(video)).toBe(false);
  });
});

describe('a keyed create retried after its episode was deleted', () => {
  it('makes the episode again under the same id; a pending delete of the old file spares the new one', async () => {
    // The SDKs' create key names the episode (its id derives from the key): after a delete, a retry of that
    // create is a new episode with the same id, the same storage keys, while the old file may still be queued
    // for deletion (here the disk refuses it first).
    const { mkdirSync, rmSync, writeFileSync } = await import('node:fs');
    const body = { source: 'sim', name: 'reborn', request_uploads: ['video'] };
    const headers = { headers: { 'idempotency-key': 'reborn-create-key' } };
    const put = (url: string, bytes: Uint8Array<ArrayBuffer>) =>
      fetch(url, { method: 'PUT', body: bytes, headers: { 'content-type': 'video/mp4' } });
    const first = await c().post<CreateEpisodeResponse>('/api/ingest/episode', body, headers);
    const url = first.body.upload_urls[0]?.url ?? '';
    expect((await put(url, new Uint8Array(1000).fill(1))).status).toBe(200);
    const video = join(app.current.dataDir, 'artifacts', ...new URL(url).pathname.split('/').slice(3));
    rmSync(`${video}.meta`, { force: true });
    mkdirSync(`${video}.meta`);
    writeFileSync(join(`${video}.meta`, 'block'), 'x');
    expect((await del(first.body.episode_id)).body).toMatchObject({ deleted: true, pending_storage: true });
    rmSync(`${video}.meta`, { recursive: true, force: true });

    const again = await c().post<CreateEpisodeResponse>('/api/ingest/episode', body, headers);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.episode_id).toBe(first.body.episode_id);
    const fresh = new Uint8Array(2000).fill(2);
    expect((await put(again.body.upload_urls[0]?.url ?? '', fresh)).status).toBe(200);
    clock.advance(60 * 60_000);
    await completeStorageDeletions(app.current.services.core, { limit: 10 });
    expect(Buffer.from(readFileSync(video)).equals(Buffer.from(fresh))).toBe(true);
    const fin = await c().post<Episode>(`/api/ingest/episode/${again.body.episode_id}/finalize`, {
      status: 'ready',
    });
    expect(fin.status).toBe(200);
    expect(fin.body.artifacts.map((a) => [a.kind, a.uploaded, a.size_bytes])).toEqual([
      ['video', true, 2000],
    ]);
  });
});

describe('a delete racing an upload of the same episode', () => {
  async function recording() {
    const created = await c().post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['video'],
    });
    const url = created.body.upload_urls[0]?.url ?? '';
    const file = join(app.current.dataDir, 'artifacts', ...new URL(url).pathname.split('/').slice(3));
    return { id: created.body.episode_id, url, file };
  }

  /** A PUT whose body is sent in two halves: the second only when `rest()` is called. */
  function slowPut(url: string, size: number) {
    const u = new URL(url);
    const req = request(u, {
      method: 'PUT',
      headers: { 'content-type': 'video/mp4', 'content-length': size },
    });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    req.write(Buffer.alloc(size / 2, 1));
    return {
      answered,
      rest: () => req.end(Buffer.alloc(size / 2, 2)),
    };
  }

  it('delete first: the upload finishing later is a 404 and stores nothing', async () => {
    const e = await recording();
    const put = slowPut(e.url, 200_000);
    const r = await del(e.id);
    expect(r.status).toBe(200);
    put.rest();
    expect(await put.answered).toBe(404);
    expect(existsSync(e.file)).toBe(false);
    expect((await c().get(`/api/episodes/${e.id}`)).status).toBe(404);
  });

  it('upload first: the delete that follows removes the file it stored', async () => {
    const e = await recording();
    const put = slowPut(e.url, 200_000);
    put.rest();
    expect(await put.answered).toBe(200);
    expect(existsSync(e.file)).toBe(true);
    const r = await del(e.id);
    expect(r.body).toMatchObject({ deleted: true, artifacts_deleted: 1, bytes_freed: 200_000 });
    expect(existsSync(e.file)).toBe(false);
  });
});

let demoProject: string | undefined;
async function projectOfKey(): Promise<string> {
  if (demoProject) return demoProject;
  const e = await c().post<CreateEpisodeResponse>('/api/ingest/episode', { source: 'sim' });
  demoProject = await projectOf(e.body.episode_id);
  return demoProject;
}
async function projectOf(episodeId: string): Promise<string> {
  const { episode } = await import('@robotrace/db');
  const [row] = await app.current.services.core.db
    .select({ p: episode.projectId })
    .from(episode)
    .where(eq(episode.id, episodeId));
  return String(row?.p);
}

describe('retention', () => {
  const put = (body: unknown) => c(RET_KEY).call<Json>('PUT', '/api/project/retention', body);
  const get = (id: string) => c(RET_KEY).get(`/api/episodes/${id}`);
  beforeAll(() => app.current.addProject('retention-lab', RET_KEY));

  it('refuses out-of-range values with a 400 naming the field', async () => {
    for (const [body, field] of [
      [{ keep_days: 0, keep_failed_days: null }, 'keep_days'],
      [{ keep_days: 30, keep_failed_days: 3651 }, 'keep_failed_days'],
      [{ keep_days: 1.5, keep_failed_days: null }, 'keep_days'],
    ] as const) {
      const r = await put(body);
      expect(r.status).toBe(400);
      expect(String(r.body.error)).toContain(field);
      expect(JSON.stringify(r.body.details)).toContain(field);
    }
  });

  it('previews what expired, sweeps it (promoted episodes kept), and reports the last sweep', async () => {
    const old = await seeded('old-ready', 'ready', RET_KEY);
    const oldFailed = await seeded('old-failed', 'failed', RET_KEY);
    const promoted = await seeded('old-promoted', 'ready', RET_KEY);
    await c(RET_KEY).post('/api/verify/promote', { baseline_episode_id: promoted.id });
    clock.advance(10 * DAY);
    const young = await seeded('young-ready', 'ready', RET_KEY);
    const youngFailed = await seeded('young-failed', 'failed', RET_KEY);
    clock.advance(3 * DAY);

    // Everything older than 30 days, failed ones older than 2: the 3-day-old failed one goes, the rest of the
    // young stays; the 13-day-old ready one stays too.
    const set = await put({ keep_days: 30, keep_failed_days: 2 });
    expect(set.status).toBe(200);
    const retention = set.body as unknown as Retention;
    expect(retention).toMatchObject({ keep_days: 30, keep_failed_days: 2, last_sweep: null });
    const expected = [oldFailed.id, youngFailed.id];
    expect(retention.next_sweep.episodes).toBe(2);
    expect(retention.next_sweep.bytes).toBe(6000);
    expect(retention.next_sweep.sample.map((s) => s.episode_id)).toEqual(expected);

    const shortened = await put({ keep_days: 5, keep_failed_days: 2 });
    const preview = (shortened.body as unknown as Retention).next_sweep;
    expect(new Set(preview.sample.map((s) => s.episode_id))).toEqual(new Set([old.id, ...expected]));

    const outcome = await runSweep(app.current.services.core, { batchSize: 2 });
    expect(outcome).toMatchObject({ ran: true, deleted: 2, more: true });
    const rest = await runSweep(app.current.services.core, { batchSize: 2 });
    expect(rest).toMatchObject({ ran: true, deleted: 1, more: false });
    for (const e of [old, oldFailed, youngFailed]) {
      expect((await get(e.id)).status).toBe(404);
      expect(e.files.some((f) => existsSync(f))).toBe(false);
    }
    for (const e of [promoted, young]) {
      expect((await get(e.id)).status).toBe(200);
      expect(e.files.every((f) => existsSync(f))).toBe(true);
    }
    const after = (await c(RET_KEY).get<Retention>('/api/project/retention')).body;
    expect(after.next_sweep).toEqual({ episodes: 0, bytes: 0, sample: [] });
    expect(after.last_sweep).toMatchObject({ deleted: 1, bytes_freed: 3000, errors: 0, message: null });
  });
});

describe('storage used and export', () => {
  it('counts bytes and files by kind, lists the largest; the export round-trips every field', async () => {
    const usage = (await c().get<StorageUsage>('/api/project/storage')).body;
    const a = await seeded('usage-a');
    const after = (await c().get<StorageUsage>('/api/project/storage')).body;
    expect(after.episodes).toBe(usage.episodes + 1);
    expect(after.artifacts).toBe(usage.artifacts + 2);
    expect(after.bytes).toBe(usage.bytes + 3000);
    const video = after.by_kind.find((k) => k.kind === 'video');
    expect(video?.bytes).toBe((usage.by_kind.find((k) => k.kind === 'video')?.bytes ?? 0) + 1000);
    expect(after.largest.length).toBeLessThanOrEqual(10);
    expect(after.largest.map((l) => l.episode_id)).toContain(a.id);
    const other = (await c(OTHER_KEY).get<StorageUsage>('/api/project/storage')).body;
    expect(other.largest.map((l) => l.episode_id)).not.toContain(a.id);
    expect(other.bytes).toBeLessThan(after.bytes);

    const res = await fetch(`${app.current.baseUrl}/api/episodes/export?robot=arm-1`, {
      headers: { authorization: `Bearer ${app.current.apiKey}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => ExportedEpisode.parse(JSON.parse(l)));
    const listed = (await c().get<{ data: Episode[] }>('/api/episodes?robot=arm-1&limit=200')).body.data;
    expect(lines.map((l) => l.id)).toEqual(listed.map((l) => l.id));
    const line = lines.find((l) => l.id === a.id);
    const full = (await c().get<Episode>(`/api/episodes/${a.id}`)).body;
    const { artifacts, ...fields } = full;
    expect(line).toMatchObject(fields);
    expect(line?.artifacts).toEqual(
      artifacts.map((x) => ({ kind: x.kind, url: x.url, bytes: x.size_bytes, content_type: x.content_type })),
    );
    const download = await fetch(line?.artifacts[0]?.url ?? '', {
      headers: { authorization: `Bearer ${app.current.apiKey}` },
    });
    expect(download.status).toBe(200);
    expect((await download.arrayBuffer()).byteLength).toBe(line?.artifacts[0]?.bytes);
    expect(readdirSync(join(app.current.dataDir, 'artifacts')).length).toBeGreaterThan(0);
  });

  it('the export pages through more than one page of the list: every match once, newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 450; i += 1) {
      if (i % 50 === 0) clock.advance(1);
      const r = await c().post<CreateEpisodeResponse>('/api/ingest/episode', {
        source: 'real',
        robot: 'many-1',
      });
      ids.push(r.body.episode_id);
    }
    const res = await fetch(`${app.current.baseUrl}/api/episodes/export?robot=many-1`, {
      headers: { authorization: `Bearer ${app.current.apiKey}` },
    });
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => ExportedEpisode.parse(JSON.parse(l)));
    expect(lines).toHaveLength(450);
    expect(new Set(lines.map((l) => l.id))).toEqual(new Set(ids));
    const times = lines.map((l) => Date.parse(l.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('export is its own resource: its 405 allows only GET and HEAD (not the DELETE of /api/episodes/{id})', async () => {
    const r = await c().call('OPTIONS', '/api/episodes/export');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, HEAD');
  });
});
