import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CreateEpisodeResponse, Episode } from '@robotrace/contracts';
import { describe, expect, it } from 'vitest';
import { useApp } from '../support/app.js';

// Regression: the local store took a PUT after the episode was finalized (200), and the episode then showed
// bytes_total 0 beside an uploaded video. A finalized episode's uploads are closed: 409, nothing stored.
describe('an upload after finalize', () => {
  const app = useApp();

  async function recordingWithVideo() {
    const client = app.current.client();
    const created = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['video'],
    });
    expect(created.status).toBe(201);
    const url = created.body.upload_urls[0]?.url ?? '';
    const put = (bytes: number) =>
      fetch(url, {
        method: 'PUT',
        body: new Uint8Array(bytes).fill(7),
        headers: { 'content-type': 'video/mp4' },
      });
    const finalize = () =>
      client.post<Episode>(`/api/ingest/episode/${created.body.episode_id}/finalize`, { status: 'ready' });
    const episode = async () => (await client.get<Episode>(`/api/episodes/${created.body.episode_id}`)).body;
    const file = join(app.current.dataDir, 'artifacts', ...new URL(url).pathname.split('/').slice(3));
    return { put, finalize, episode, file };
  }

  it('is refused with 409 episode_finalized and stores nothing', async () => {
    const e = await recordingWithVideo();
    expect((await e.finalize()).status).toBe(200);
    const late = await e.put(2048);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ code: 'conflict', details: { reason: 'episode_finalized' } });
    expect(existsSync(e.file)).toBe(false);
    const episode = await e.episode();
    expect(episode.bytes_total).toBe(0);
    expect(episode.artifacts).toMatchObject([{ kind: 'video', uploaded: false, size_bytes: null }]);
  });

  it('leaves the video uploaded before finalize as it was', async () => {
    const e = await recordingWithVideo();
    expect((await e.put(1000)).status).toBe(200);
    expect(existsSync(e.file)).toBe(true); // the path the first test checks is where uploads land
    expect((await e.finalize()).body.bytes_total).toBe(1000);
    expect((await e.put(3000)).status).toBe(409);
    const episode = await e.episode();
    expect(episode.bytes_total).toBe(1000);
    expect(episode.artifacts).toMatchObject([{ kind: 'video', uploaded: true, size_bytes: 1000 }]);
    const download = await fetch(episode.artifacts[0]?.url ?? '', {
      headers: { authorization: `Bearer ${app.current.apiKey}` },
    });
    expect(download.status).toBe(200);
    expect((await download.arrayBuffer()).byteLength).toBe(1000);
  });
});
