import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ArtifactKind } from '@robotrace/contracts';
import { episode, project } from '@robotrace/db';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKey } from '../../src/episodes.js';
import {
  ColumnCache,
  indexArtifactTracks,
  localArtifactOpener,
  openFileSource,
  type TrackDeps,
} from '../../src/tracks/index.js';
import { type TempCore, tempCore } from '../support/temp-core.js';
import { type Fixtures, makeFixtures } from '../unit/tracks/fixtures.js';
import { type PlayerPage, startPlayerHarness } from './tracks-player-harness.js';

const CLIP = resolve(import.meta.dirname, '../../../sdk-ts/fixtures/demo/pick-slip.mp4'); // 3 s H.264

let fx: Fixtures;
let core: TempCore;
let deps: TrackDeps;
let browser: Browser;
let harness: Awaited<ReturnType<typeof startPlayerHarness>>;
const scope = { projectId: crypto.randomUUID() };
const ids = { full: crypto.randomUUID(), tracksOnly: crypto.randomUUID(), videoOnly: crypto.randomUUID() };
const errors: string[] = [];
const dialogs: string[] = [];

async function withFiles(id: string, fps: number | null, files: Partial<Record<ArtifactKind, string>>) {
  await core.deps.db
    .insert(episode)
    .values({ id, projectId: scope.projectId, source: 'sim', status: 'ready', fps });
  for (const [kind, file] of Object.entries(files) as [ArtifactKind, string][]) {
    const path = core.store.pathOf(storageKey(scope, id, kind));
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(fx.path(file), path);
    const source = await openFileSource(path);
    await indexArtifactTracks(deps, scope, id, kind, source).finally(() => source.close());
  }
}

beforeAll(async () => {
  fx = await makeFixtures();
  core = await tempCore();
  const cache = new ColumnCache(join(fx.dir, 'player-cache'), 64 << 20);
  await cache.init();
  deps = { ...core.deps, tracks: { open: localArtifactOpener(core.store), cache, maxIndexBytes: 1 << 30 } };
  await core.deps.db.insert(project).values({ id: scope.projectId, name: 'player' });
  await withFiles(ids.full, 50, { sensors: 'gym.npz', actions: 'actions.parquet' });
  await withFiles(ids.tracksOnly, null, { sensors: 'html.npz', actions: 'nonmono.npz' });
  await withFiles(ids.videoOnly, 30, {});
  const pages: PlayerPage[] = [
    { episodeId: ids.full, fps: 50, durationS: 3, failureTimeS: 0.6, videoPath: CLIP },
    { episodeId: ids.tracksOnly, durationS: 1 },
    { episodeId: ids.videoOnly, fps: 30, durationS: 3, videoPath: CLIP },
  ];
  harness = await startPlayerHarness(deps, scope, pages);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'],
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await core?.close();
  fx?.cleanup();
});

async function open(path: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(harness.url(path));
  await page.waitForSelector('[data-replay][data-state="ready"]');
  return page;
}
const cursorMs = async (page: Page) =>
  Number(await page.getAttribute('[data-replay]', 'data-cursor-ns')) / 1e6;
const videoTime = (page: Page) => page.$eval('video', (v) => (v as HTMLVideoElement).currentTime);
const inkOf = (page: Page, track: string) =>
  page.$eval(`section[aria-label="${track}"] canvas.replay-canvas`, (c) => {
    const canvas = c as HTMLCanvasElement;
    const px = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
    let ink = 0;
    for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) ink++;
    return ink;
  });

describe('the replay player in Chromium', () => {
  it('one labelled, drawn lane per track, the video, the failure pin', async () => {
    const page = await open(`/page/${ids.full}`);
    const labels = await page.$$eval('section[role="region"]', (s) =>
      s.map((x) => x.getAttribute('aria-label')),
    );
    expect(labels).toEqual(['action/value', 'observation/value', 'gripper', 'arm/joint0']);
    for (const name of labels) {
      await page.waitForSelector(`section[aria-label="${name}"][data-drawn="true"]`);
      expect(await inkOf(page, name as string), name as string).toBeGreaterThan(50);
    }
    expect(
      await page.$$eval('section[aria-label="observation/value"] .replay-legend-item', (e) =>
        e.map((x) => x.textContent),
      ),
    ).toEqual(['x', 'x_dot', 'theta', 'theta_dot']);
    expect(await page.textContent('[data-replay-failure-pin]')).toBe('failure at 0.600 s');
    expect(await page.$$('video')).toHaveLength(1);
    await page.screenshot({
      path: join(process.cwd(), 'test-results/screenshots/replay-player.png'),
      fullPage: true,
    });
    await page.context().close();
  });

  it('?t= opens at that moment (playhead and video); "Copy link at this moment" writes it', async () => {
    const page = await open(`/page/${ids.full}?t=1500`);
    expect(await cursorMs(page)).toBe(1500);
    await page.waitForFunction(
      () => Math.abs((document.querySelector('video') as HTMLVideoElement).currentTime - 1.5) < 0.01,
    );
    await page.click('[data-replay-copy]');
    await page.waitForSelector('[data-replay][data-copied-link]');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(new URL(copied).searchParams.get('t')).toBe('1500');
    await page.context().close();
  });

  it('keyboard: → one frame at fps, shift+→ one second, f the failure, space plays and pauses', async () => {
    const page = await open(`/page/${ids.full}`);
    await page.keyboard.press('ArrowRight');
    expect(await cursorMs(page)).toBe(20);
    await page.keyboard.press('Shift+ArrowRight');
    expect(await cursorMs(page)).toBe(1020);
    await page.keyboard.press('ArrowLeft');
    expect(await cursorMs(page)).toBe(1000);
    await page.keyboard.press('f');
    expect(await cursorMs(page)).toBe(600);
    await page.waitForFunction(
      () => Math.abs((document.querySelector('video') as HTMLVideoElement).currentTime - 0.6) < 0.01,
    );
    await page.keyboard.press('Space');
    await page.waitForSelector('[data-replay][data-playing="true"]');
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).currentTime > 0.8);
    expect(await cursorMs(page)).toBeGreaterThan(600); // the playing video moved the playhead
    await page.keyboard.press('Space');
    await page.waitForSelector('[data-replay][data-playing="false"]');
    await page.click('[data-replay-failure]');
    expect(await cursorMs(page)).toBe(600);
    await page.context().close();
  });

  it('clicking a lane seeks the video; hovering shows the values', async () => {
    const page = await open(`/page/${ids.full}`);
    const lane = page.locator('section[aria-label="gripper"] canvas.replay-overlay');
    await lane.scrollIntoViewIfNeeded();
    const box = await lane.boundingBox();
    if (!box) throw new Error('lane not laid out');
    await page.mouse.move(box.x + box.width / 6, box.y + box.height / 2);
    await expect
      .poll(() => page.textContent('section[aria-label="gripper"] .replay-readout'))
      .toMatch(/gripper = /);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const ms = await cursorMs(page);
    expect(ms).toBeGreaterThan(1400);
    expect(ms).toBeLessThan(1600);
    await page.waitForFunction(
      (want) => Math.abs((document.querySelector('video') as HTMLVideoElement).currentTime - want) < 0.01,
      ms / 1000,
    );
    expect(await videoTime(page)).toBeCloseTo(ms / 1000, 2);
    await page.context().close();
  });

  it('lanes can be hidden and reordered, and stay so on reload', async () => {
    const page = await open(`/page/${ids.full}`);
    await page.click('section[aria-label="action/value"] [data-lane-down]');
    await page.click('section[aria-label="gripper"] [data-lane-hide]');
    const order = async () => (await page.getAttribute('[data-replay]', 'data-lane-order'))?.split('\n');
    expect(await order()).toEqual(['observation/value', 'action/value', 'arm/joint0']);
    expect(await page.$('section[aria-label="gripper"]')).toBeNull();
    await page.reload();
    await page.waitForSelector('[data-replay][data-state="ready"]');
    expect(await order()).toEqual(['observation/value', 'action/value', 'arm/joint0']);
    await page.click('[data-lane-show="gripper"]');
    await page.waitForSelector('section[aria-label="gripper"][data-drawn="true"]');
    await page.context().close();
  });

  it('zoom (wheel) asks the server for the visible window only', async () => {
    const page = await open(`/page/${ids.full}`);
    const lane = page.locator('section[aria-label="arm/joint0"] canvas.replay-overlay');
    await lane.scrollIntoViewIfNeeded();
    const box = await lane.boundingBox();
    if (!box) throw new Error('lane not laid out');
    const before = harness.requests.length;
    await page.mouse.move(box.x + box.width * 0.1, box.y + 20);
    for (let i = 0; i < 5; i++) await page.mouse.wheel(0, -100);
    // Each wheel step zooms further and may ask again: wait for the request of the last step's view, not the first.
    const lastSpanNs = () => {
      const last = harness.requests
        .slice(before)
        .filter((r) => r.includes('/tracks/arm%2Fjoint0?'))
        .at(-1);
      if (!last) return Number.POSITIVE_INFINITY;
      const q = new URL(`http://x${last}`).searchParams;
      return Number(q.get('to_ns')) - Number(q.get('from_ns'));
    };
    await expect.poll(lastSpanNs).toBeLessThan(3e9 * 0.5);
    await page.context().close();
  });

  it('tracks only (no video): lanes drawn, warnings shown, a track name with HTML stays text', async () => {
    const page = await open(`/page/${ids.tracksOnly}`);
    expect(await page.$$('video')).toHaveLength(0);
    const evil = '<img src=x onerror=alert(1)>/value';
    await page.waitForSelector(`section[aria-label="${evil}"][data-drawn="true"]`);
    expect(await page.textContent(`section[aria-label="${evil}"] .replay-lane-name`)).toBe(evil);
    expect(await page.$$('img')).toHaveLength(0);
    const warning = "sensors.npz: member 'imu/_t_ns' is not monotonic — plotted by step index";
    expect(await page.textContent('.replay-warnings')).toContain(warning.replace('sensors', 'actions'));
    expect(await page.textContent('section[aria-label="imu/accel"] .replay-lane-warning')).toContain(
      'is not monotonic',
    );
    await page.keyboard.press('ArrowRight'); // no fps: one sample of the first lane
    expect(await cursorMs(page)).toBeGreaterThan(0);
    await page.context().close();
  });

  it("a video and no tracks: today's page, with the timeline controls", async () => {
    const page = await open(`/page/${ids.videoOnly}`);
    expect(await page.$$('section[role="region"]')).toHaveLength(0);
    expect(await page.textContent('.replay-empty')).toBe('No sensor or action tracks for this episode.');
    await page.keyboard.press('ArrowRight');
    expect(await cursorMs(page)).toBeCloseTo(1000 / 30, 3);
    await page.context().close();
  });

  it('no script error, no CSP violation, no dialog on any page', () => {
    expect(errors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
