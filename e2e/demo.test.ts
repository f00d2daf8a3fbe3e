import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferSource, ColumnCache, indexNpz } from '@robotrace/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_JOINTS } from '../packages/sdk-ts/src/demo/tracks.js';
import { cli } from '../packages/sdk-ts/test/support/cli.js';
import { serverApi } from '../packages/sdk-ts/test/support/server-api.js';
import { startServer, TEST_EMAIL, TEST_PASSWORD, type TestServer } from '../test/support/server.js';
import { launchBrowser, newContext, signIn, watchPage } from './support/browser.js';

// `robotrace demo` against the started server: its episodes carry the fixture clips, which really play in
// Debian's Chromium (frames decoded, time advancing), and sensor/action NPZ files the replay indexer reads cleanly.

interface DemoOut {
  trace_id: string;
  episodes: Array<{ id: string; name: string; status: string; source: string; portal_url: string }>;
}

let server: TestServer;
let browser: Browser;
let page: Page;
let demo: DemoOut;
const cacheDir = mkdtempSync(join(tmpdir(), 'robotrace-demo-cache-'));

beforeAll(async () => {
  server = await startServer();
  const run = await cli(['demo', '--json'], {
    env: { ROBOTRACE_API_KEY: server.apiKey, ROBOTRACE_BASE_URL: server.baseUrl },
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  demo = JSON.parse(run.stdout) as DemoOut;
  browser = await launchBrowser();
  page = await (await newContext(browser)).newPage();
  await signIn(page, server.baseUrl, TEST_EMAIL, TEST_PASSWORD);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(cacheDir, { recursive: true, force: true });
});

const byName = (name: string) => {
  const found = demo.episodes.find((e) => e.name === name);
  if (!found) throw new Error(`no demo episode named ${name}`);
  return found;
};

/** Plays the episode page's video muted (autoplay needs no gesture then) and reports what Chromium decoded. */
async function playOnPage(id: string) {
  const watch = watchPage(page);
  await page.goto(`${server.baseUrl}/portal/episodes/${id}`);
  const video = page.locator('video').first();
  const presented = await video.evaluate(async (v: HTMLVideoElement) => {
    v.muted = true;
    const frame = new Promise<number>((resolve) =>
      v.requestVideoFrameCallback((_, m) => resolve(m.presentedFrames)),
    );
    await v.play();
    return frame;
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 15_000 })
    .toBeGreaterThan(0.5);
  const state = await video.evaluate((v: HTMLVideoElement) => {
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [v.videoWidth, v.videoHeight];
    const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    ctx.drawImage(v, 0, 0);
    const pixel = (x: number, y: number) => [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)];
    return {
      size: [v.videoWidth, v.videoHeight],
      frames: v.getVideoPlaybackQuality().totalVideoFrames,
      error: v.error?.code ?? null,
      // The clip's background (0x243447) and table (0x6b5b4b), as the decoder painted them.
      sky: pixel(160, 5),
      table: pixel(10, 170),
    };
  });
  return { presented, ...state, pageErrors: watch.errors };
}

const near = (rgb: number[], hex: number) =>
  rgb.every((c, i) => Math.abs(c - ((hex >> (16 - 8 * i)) & 0xff)) <= 12);

describe('robotrace demo, end to end', () => {
  it.each([['pick-cube eval seed=1'], ['pick-cube eval seed=3'], ['pick-cube on franka-01']])(
    '%s: the video plays in Chromium, frames decoded and time advancing',
    async (name) => {
      const played = await playOnPage(byName(name).id);
      expect(played.error).toBeNull();
      expect(played.presented).toBeGreaterThan(0);
      expect(played.frames).toBeGreaterThan(0);
      expect(played.size).toEqual([320, 180]);
      expect(near(played.sky, 0x243447)).toBe(true);
      expect(near(played.table, 0x6b5b4b)).toBe(true);
      expect(played.pageErrors).toEqual([]);
    },
  );

  it('logs every rollout with sensors and actions that the replay indexer reads without a warning', async () => {
    const api = serverApi(server.baseUrl, server.apiKey);
    const cache = new ColumnCache(cacheDir, 1 << 24);
    await cache.init();
    const rollouts = demo.episodes.filter((e) => !e.name.includes('(suite)'));
    expect(rollouts.length).toBeGreaterThanOrEqual(7);
    for (const episode of rollouts) {
      const stored = await api.episode(episode.id);
      const uploaded = stored.artifacts.filter((a) => a.uploaded).map((a) => a.kind);
      expect(uploaded.sort(), episode.name).toEqual(['actions', 'sensors', 'video']);
      const joints: readonly string[] = episode.name.includes('franka')
        ? DEMO_JOINTS.franka
        : DEMO_JOINTS.ur5e;
      for (const kind of ['sensors', 'actions'] as const) {
        const { bytes } = await api.artifact(episode.id, kind);
        const index = await indexNpz(bufferSource(bytes), {
          label: `${kind}.npz`,
          artifactKey: `${episode.id}/${kind}`,
          cache,
          maxIndexBytes: 1 << 26,
        });
        expect(index.warnings, `${episode.name} ${kind}`).toEqual([]);
        expect(index.tracks.every((t) => t.warnings.length === 0 && t.time?.startNs === '0')).toBe(true);
        const jointTrack = index.tracks.find(
          (t) => t.name === (kind === 'sensors' ? 'joints/position' : 'command/joint_position'),
        );
        expect(jointTrack?.columns).toEqual([...joints]);
        expect(jointTrack?.time?.endNs).toBe(String(3e9));
      }
    }
  });

  it('the failed episodes name the moment their clip shows', async () => {
    const api = serverApi(server.baseUrl, server.apiKey);
    const slip = await api.episode(byName('pick-cube eval seed=3').id);
    const estop = await api.episode(byName('pick-cube on franka-01').id);
    expect([slip.status, slip.failure_time_s]).toEqual(['failed', 1.95]);
    expect([estop.status, estop.failure_time_s]).toEqual(['failed', 2.2]);
  });
});
