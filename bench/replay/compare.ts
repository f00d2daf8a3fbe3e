// bench/replay compare: 4 episodes of the benchmark's size on /portal/compare, against the started server
// (apps/web/dist: real upload hook, real portal, real session). First paint = HTML response end → every lane
// drawn for every episode; baseline (same run) = one of those episodes' own page → every lane drawn.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { signIn } from '../../e2e/support/browser.js';
import { startServer, TEST_EMAIL, TEST_PASSWORD } from '../../test/support/server.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function logEpisode(
  base: string,
  key: string,
  dir: string,
  minutes: number,
  i: number,
): Promise<string> {
  const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const created = await fetch(`${base}/api/ingest/episode`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({
      source: 'sim',
      name: `bench ${i}`,
      fps: 100,
      request_uploads: ['sensors', 'actions'],
    }),
  });
  const body = (await created.json()) as { episode_id: string; upload_urls: { kind: string; url: string }[] };
  for (const slot of body.upload_urls) {
    const put = await fetch(slot.url, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: readFileSync(join(dir, `${slot.kind}.npz`)),
    });
    if (put.status !== 200) throw new Error(`upload ${slot.kind}: ${put.status}`);
  }
  const done = await fetch(`${base}/api/ingest/episode/${body.episode_id}/finalize`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ status: 'failed', duration_s: minutes * 60, failure_time_s: minutes * 30 + i }),
  });
  if (done.status !== 200) throw new Error(`finalize: ${done.status}`);
  return body.episode_id;
}

/** ms from the HTML's response end until every lane of the page says drawn (polled each animation frame). */
async function allLanesMs(page: Page, url: string, root: string): Promise<number> {
  await page.goto(url);
  const handle = await page.waitForFunction(
    (sel) => {
      const r = document.querySelector(sel) as HTMLElement | null;
      const lanes = [...document.querySelectorAll(`${sel} section[data-track]`)] as HTMLElement[];
      if (!r || lanes.length === 0 || !lanes.every((l) => l.dataset.drawn)) return null;
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return performance.now() - nav.responseEnd;
    },
    root,
    { polling: 'raf', timeout: 60_000 },
  );
  return (await handle.jsonValue()) as number;
}

/** Rows for the Replay table: compare (4 episodes) first paint vs one episode's page. */
export async function compareRows(dir: string, minutes: number, runs: number): Promise<string[][]> {
  const server = await startServer();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await logEpisode(server.baseUrl, server.apiKey, dir, minutes, i));
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // tsx compiles page functions with esbuild's keepNames, which calls a `__name` helper.
    await context.addInitScript({ content: 'window.__name = (f) => f;' });
    const page = await context.newPage();
    await signIn(page, server.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const compare: number[] = [];
    const single: number[] = [];
    for (let r = 0; r < runs; r++) {
      compare.push(
        await allLanesMs(
          page,
          `${server.baseUrl}/portal/compare?ids=${ids.join(',')}`,
          '[data-replay-compare]',
        ),
      );
      single.push(await allLanesMs(page, `${server.baseUrl}/portal/episodes/${ids[0]}`, '[data-replay]'));
    }
    const [c, s] = [median(compare), median(single)];
    return [
      [
        'compare, 4 such episodes: every lane of every episode drawn after the HTML (Chromium, started server)',
        `${c.toFixed(0)} ms`,
        `one episode's page, every lane: ${s.toFixed(0)} ms`,
        `${(c / s).toFixed(2)}×`,
        '≤ 2,000 ms',
      ],
    ];
  } finally {
    await browser.close();
    await server.stop();
  }
}
