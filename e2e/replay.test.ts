import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ArtifactKind } from '@robotrace/contracts';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoVideo } from '../packages/sdk-ts/src/demo/video.js';
import { startServer, TEST_EMAIL, TEST_PASSWORD, type TestServer } from '../test/support/server.js';
import { api } from './support/api.js';
import {
  launchBrowser,
  newContext,
  type PageWatch,
  screenshot,
  signIn,
  watchPage,
} from './support/browser.js';

/**
 * Replay in Chromium against the started server: files written by numpy (savez and savez_compressed) and
 * pyarrow (test/fixtures/tracks/make_tracks.py) uploaded through the real upload URLs, indexed by the upload
 * hook, drawn by the episode page's player; every bad input of issue 14 on its own episode; compare.
 */
const ROOT = resolve(import.meta.dirname, '..');
const PYTHON = join(ROOT, '.cache/venv-sdk/bin/python');
const dir = mkdtempSync(join(tmpdir(), 'robotrace-replay-e2e-'));
const marker = join(dir, 'UNPICKLED');
const S = 1e9;

let server: TestServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;

/** Create → PUT each file to its signed URL (the app's own upload route) → finalize, as the SDKs do. */
async function logWith(
  files: Partial<Record<ArtifactKind, Uint8Array>>,
  input: Record<string, unknown>,
  finalize: Record<string, unknown> = { status: 'ready', duration_s: 1 },
): Promise<string> {
  const kinds = Object.keys(files) as ArtifactKind[];
  const created = await api(server.baseUrl, server.apiKey, '/api/ingest/episode', {
    source: 'sim',
    fps: 50,
    ...input,
    request_uploads: kinds,
  });
  expect(created.status).toBe(201);
  const id = String(created.json.episode_id);
  for (const slot of created.json.upload_urls as { kind: ArtifactKind; url: string }[]) {
    const body = files[slot.kind];
    const put = await fetch(slot.url, {
      method: 'PUT',
      headers: { 'content-type': slot.kind === 'video' ? 'video/mp4' : 'application/octet-stream' },
      body: body ? Buffer.from(body) : undefined,
    });
    expect(put.status, slot.kind).toBe(200);
  }
  const done = await api(server.baseUrl, server.apiKey, `/api/ingest/episode/${id}/finalize`, finalize);
  expect(done.status).toBe(200);
  return id;
}
const file = (name: string) => readFileSync(join(dir, name));

async function openEpisode(id: string, query = ''): Promise<void> {
  const res = await page.goto(`${server.baseUrl}/portal/episodes/${id}${query}`);
  expect(res?.status()).toBe(200);
  await page.locator('[data-replay][data-state="ready"]').waitFor();
}

/** Lit pixels on a lane's data canvas (a lane that says "drawn" but painted nothing would be 0). */
const litPixels = (name: string) =>
  page.evaluate((n) => {
    const c = document.querySelector(`section[data-track="${CSS.escape(n)}"] canvas`) as HTMLCanvasElement;
    const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
    let lit = 0;
    for (let i = 3; i < d.length; i += 4) if ((d[i] ?? 0) > 0) lit++;
    return lit;
  }, name);
const cursorNs = async () => Number(await page.locator('[data-replay]').getAttribute('data-cursor-ns'));

let good: string;
let other: string;
const bad: Record<string, string> = {};

beforeAll(async () => {
  execFileSync(PYTHON, [join(ROOT, 'test/fixtures/tracks/make_tracks.py'), dir, marker], {
    stdio: 'inherit',
  });
  // A 1 MB indexing limit (config): zip64.npz (65,536 members, ~9 MB) is indexed partially, with a note.
  server = await startServer({ env: { ROBOTRACE_TRACK_INDEX_MAX_BYTES: '1000000' } });
  good = await logWith(
    { video: demoVideo(), sensors: file('gym_compressed.npz'), actions: file('gym.npz') },
    {
      name: 'replay good',
      metadata: {
        arm: { __type: 'robotrace.JointState', positions: [0.1, 0.2], names: ['shoulder', 'elbow'] },
        battery: { __type: 'robotrace.Battery', percent: 80 },
        broken_pose: { __type: 'robotrace.Pose3D', translation: [1, 2] },
      },
    },
    { status: 'failed', duration_s: 1, failure_time_s: 0.5 },
  );
  other = await logWith(
    { sensors: file('gym.npz') },
    { name: 'replay other' },
    { status: 'failed', duration_s: 1, failure_time_s: 0.3 },
  );
  const cases: [string, ArtifactKind, string][] = [
    ['truncated', 'sensors', 'truncated.npz'],
    ['notzip', 'sensors', 'notzip.npz'],
    ['badmember', 'sensors', 'badmember.npz'],
    ['mismatch', 'sensors', 'mismatch.npz'],
    ['nonmono', 'sensors', 'nonmono.npz'],
    ['nan', 'sensors', 'nan.npz'],
    ['empty', 'sensors', 'empty.npz'],
    ['notime', 'actions', 'notime.parquet'],
    ['object', 'sensors', 'object.npz'],
    ['html', 'sensors', 'html.npz'],
    ['overlimit', 'sensors', 'zip64.npz'],
  ];
  for (const [name, kind, f] of cases)
    bad[name] = await logWith({ [kind]: file(f) }, { name: `bad ${name}` });
  browser = await launchBrowser();
  page = await (await newContext(browser)).newPage();
  watch = watchPage(page);
  await signIn(page, server.baseUrl, TEST_EMAIL, TEST_PASSWORD);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay on the episode page', () => {
  it('lists the uploaded numpy files as tracks and draws one labelled lane per track', async () => {
    const listed = await api(server.baseUrl, server.apiKey, `/api/episodes/${good}/tracks`);
    const names = (listed.json.tracks as { name: string }[]).map((t) => t.name);
    expect(names).toEqual([
      'action/value',
      'observation/value',
      'actions:action/value',
      'actions:observation/value',
    ]);
    await openEpisode(good);
    await expect.poll(() => page.locator('section[data-track][data-drawn="true"]').count()).toBe(4);
    for (const n of names) {
      expect(await page.getByRole('region', { name: n, exact: true }).count()).toBe(1);
      expect(await litPixels(n)).toBeGreaterThan(50);
    }
    // Column names from the file's `<field>_names` member label the lines.
    const legend = await page
      .locator('section[data-track="observation/value"] .replay-legend-item')
      .allTextContents();
    expect(legend).toEqual(['x', 'x_dot', 'theta', 'theta_dot']);
    expect(await page.locator('[data-replay] video').count()).toBe(1);
    await screenshot(page, 'replay-episode');
  });

  it('opens at ?t= (playhead and video), steps with the keyboard, jumps to the failure pin', async () => {
    await openEpisode(good, '?t=400');
    expect(await cursorNs()).toBe(0.4 * S);
    await expect
      .poll(() => page.evaluate(() => document.querySelector('video')?.currentTime ?? -1))
      .toBeCloseTo(0.4, 2);
    await expect(page.locator('[data-replay-failure-pin]').count()).resolves.toBe(1);
    await page.locator('.replay-axis').focus();
    await page.keyboard.press('ArrowRight');
    expect(await cursorNs()).toBeCloseTo(0.42 * S, -3); // one frame at 50 fps
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    expect(await cursorNs()).toBeCloseTo(0.38 * S, -3);
    await page.keyboard.press('f');
    expect(await cursorNs()).toBe(0.5 * S);
    await page.keyboard.press('Shift+ArrowLeft');
    expect(await cursorNs()).toBe(0);
    await page.getByRole('button', { name: 'Copy link at this moment' }).click();
    expect(await page.locator('[data-replay]').getAttribute('data-copied-link')).toMatch(/[?&]t=0$/);
    // Space plays the video (the playhead follows it) and pauses it again.
    await page.locator('.replay-axis').focus();
    await page.keyboard.press(' ');
    await expect.poll(() => page.locator('[data-replay]').getAttribute('data-playing')).toBe('true');
    await page.keyboard.press(' ');
    await expect.poll(() => page.locator('[data-replay]').getAttribute('data-playing')).toBe('false');
  });

  it('hides and reorders lanes, and keeps that for the episode', async () => {
    await openEpisode(good);
    await page.getByRole('button', { name: 'Hide action/value', exact: true }).click();
    await expect.poll(() => page.locator('section[data-track="action/value"]').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Move actions:action/value up', exact: true }).click();
    const order = await page.locator('[data-replay]').getAttribute('data-lane-order');
    await openEpisode(good);
    expect(await page.locator('[data-replay]').getAttribute('data-lane-order')).toBe(order);
    expect(await page.locator('section[data-track="action/value"]').isHidden()).toBe(true);
    await page.locator('[data-lane-show="action/value"]').click();
    await expect.poll(() => page.locator('section[data-track="action/value"]').isVisible()).toBe(true);
  });

  it('draws the typed metadata widgets, a malformed one as JSON with a warning', async () => {
    await openEpisode(good);
    const joint = page.locator('[data-typed="robotrace.JointState"]');
    await expect(joint.locator('th[scope="row"]').allTextContents()).resolves.toEqual(['shoulder', 'elbow']);
    await expect(page.locator('[data-typed="robotrace.Battery"] .tm-battery').textContent()).resolves.toBe(
      '80 %',
    );
    const broken = page.locator('[data-typed="robotrace.Pose3D"][data-malformed]');
    await expect(broken.locator('[data-typed-warning]').isVisible()).resolves.toBe(true);
    await expect(broken.textContent()).resolves.toContain('translation must be [x, y, z]');
  });
});

describe('bad input: the page renders and says what is wrong', () => {
  const expected: Record<string, RegExp> = {
    truncated: /sensors\.npz: .*no tracks/,
    notzip: /sensors: not a track file/,
    badmember: /member 'x\/broken' is not a valid \.npy .* — skipped/,
    mismatch: /topic 'arm' has fields with different step counts/,
    nonmono: /member 'imu\/_t_ns' is not monotonic — plotted by step index/,
    nan: /'s\/v' has 2 NaN\/Inf values — drawn as gaps/,
    empty: /'quiet\/v' has 0 samples — nothing to plot/,
    notime: /actions\.parquet: no time column .* — plotted by step index/,
    object: /member 'o\/evil' is an object array \(needs pickle\) — skipped, never unpickled/,
    overlimit:
      /over the indexing limit of 1000000 bytes — indexed partially \(\d+ of 65536 members\).*indexed partially \(the first 256\)/,
  };
  for (const [name, pattern] of Object.entries(expected))
    it(`${name}`, async () => {
      await openEpisode(bad[name] as string);
      const text = (await page.locator('[data-replay]').textContent()) ?? '';
      expect(text).toMatch(pattern);
      expect(await page.locator('h1').textContent()).toContain(`bad ${name}`);
    });

  it('never unpickles an object array: the payload would have created a file', async () => {
    const listed = await api(server.baseUrl, server.apiKey, `/api/episodes/${bad.object}/tracks`);
    expect((listed.json.tracks as { name: string }[]).map((t) => t.name)).toEqual(['o/ok']);
    const win = await api(
      server.baseUrl,
      server.apiKey,
      `/api/episodes/${bad.object}/tracks/o%2Fok?points=10`,
    );
    expect(win.status).toBe(200);
    await openEpisode(bad.object as string);
    expect(existsSync(marker)).toBe(false);
  });

  it('shows a track name with HTML in it as text', async () => {
    await openEpisode(bad.html as string);
    const hostile = '<img src=x onerror=alert(1)>/value';
    expect(await page.getByRole('region', { name: hostile, exact: true }).count()).toBe(1);
    expect(await page.locator('[data-replay] img').count()).toBe(0);
    expect(watch.dialogs).toEqual([]);
    expect(watch.errors).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });
});

describe('compare', () => {
  it('puts two episodes on one timeline, one colour each, aligned at starts or failures', async () => {
    const res = await page.goto(`${server.baseUrl}/portal/compare?ids=${good},${other}&t=200`);
    expect(res?.status()).toBe(200);
    const root = page.locator('[data-replay-compare]');
    await page.locator('[data-replay-compare][data-state="ready"]').waitFor();
    expect(await root.getAttribute('data-cursor-ns')).toBe(String(0.2 * S));
    // Both episodes have observation/value: one lane, both drawn in it.
    const lane = page.getByRole('region', { name: 'observation/value', exact: true });
    await expect(lane.getAttribute('data-episodes')).resolves.toBe('2');
    expect(await page.locator('.compare-media figure').count()).toBe(2);
    await page.getByRole('button', { name: 'Align at failure times' }).click();
    expect(await root.getAttribute('data-align')).toBe('failure');
    // Failures at 0.5 s and 0.3 s line up at the later one: the playhead goes there.
    expect(await root.getAttribute('data-cursor-ns')).toBe(String(0.5 * S));
    await page.getByRole('button', { name: 'Copy link at this moment' }).click();
    const link = (await root.getAttribute('data-copied-link')) ?? '';
    expect(link).toContain('align=failure');
    expect(link).toContain('t=500');
    await screenshot(page, 'replay-compare');
  });

  it('is reachable from the list by selecting rows', async () => {
    await page.goto(`${server.baseUrl}/portal/episodes`);
    await page.locator(`input[data-compare-select][value="${good}"]`).check();
    await page.locator(`input[data-compare-select][value="${other}"]`).check();
    await page.getByRole('button', { name: 'Compare selected (2–4)' }).click();
    await page.waitForURL('**/portal/compare?**');
    expect(new URL(page.url()).searchParams.getAll('ids').join(',').split(',').sort()).toEqual(
      [good, other].sort(),
    );
  });

  it('is reachable from the trace page: every episode of one trace', async () => {
    const trace = 'aa'.repeat(16);
    const ids = [];
    for (const span of ['b1'.repeat(8), 'b2'.repeat(8)])
      ids.push(
        await logWith(
          { sensors: file('gym.npz') },
          { name: `traced ${span}`, otel: { traceparent: `00-${trace}-${span}-01` } },
        ),
      );
    await page.goto(`${server.baseUrl}/portal/traces/${trace}`);
    await page.getByRole('link', { name: 'Compare these episodes' }).click();
    await page.waitForURL('**/portal/compare?**');
    await page.locator('[data-replay-compare][data-state="ready"]').waitFor();
    expect((new URL(page.url()).searchParams.get('ids') ?? '').split(',').sort()).toEqual(ids.sort());
  });

  it('says clearly when there are too few or too many ids, and 404s an id it cannot see', async () => {
    const one = await page.goto(`${server.baseUrl}/portal/compare?ids=${good}`);
    expect(one?.status()).toBe(400);
    expect(await page.locator('h1').textContent()).toBe('Pick 2 to 4 episodes to compare');
    const ids = [good, other, bad.nan, bad.html, bad.empty].join(',');
    const five = await page.goto(`${server.baseUrl}/portal/compare?ids=${ids}`);
    expect(five?.status()).toBe(400);
    expect(await page.locator('main').textContent()).toContain('at most 4 episodes');
    const missing = await page.goto(`${server.baseUrl}/portal/compare?ids=${good},${crypto.randomUUID()}`);
    expect(missing?.status()).toBe(404);
  });
});
