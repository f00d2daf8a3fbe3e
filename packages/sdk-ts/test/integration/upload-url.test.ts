import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../../../../test/support/server.js';
import { RoboTrace } from '../../src/client.js';
import { demoVideo } from '../../src/demo/video.js';
import { serverApi } from '../support/server-api.js';

let server: TestServer;
const video = join(mkdtempSync(join(tmpdir(), 'robotrace-ttl-')), 'run.mp4');
writeFileSync(video, demoVideo({ seconds: 1 }));

beforeAll(async () => {
  // The shortest upload URL lifetime the server allows, so a long-running episode can be played out quickly.
  server = await startServer({ env: { ROBOTRACE_UPLOAD_URL_TTL_S: '10' } });
});
afterAll(() => server?.stop());

describe('an episode that outlives its signed upload URL', () => {
  it('uploads through a fresh URL and round-trips the bytes', async () => {
    const rt = new RoboTrace({ apiKey: server.apiKey, baseUrl: server.baseUrl, env: {}, quiet: true });
    const episode = await rt.startEpisode({ name: 'long run', source: 'real', artifacts: ['video'] });
    const [slot] = episode.uploadUrls;
    // Let the run "take" longer than the URL lives (this wait sets up the case; nothing is timed).
    await delay(Math.max(0, Date.parse(slot?.expires_at ?? '') - Date.now()) + 1_500);

    const stale = await fetch(slot?.url ?? '', {
      method: 'PUT',
      body: 'x',
      headers: { 'content-type': 'video/mp4' },
    });
    expect(stale.status).toBe(403);
    expect(await stale.json()).toMatchObject({ code: 'url_expired' });

    await episode.uploadVideo(video);
    await episode.finish();
    expect(episode.uploadUrls[0]?.url).not.toBe(slot?.url);
    const downloaded = await serverApi(server.baseUrl, server.apiKey).artifact(episode.id, 'video');
    expect(downloaded.bytes.equals(readFileSync(video))).toBe(true);
  });
});
