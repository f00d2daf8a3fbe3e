import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newContext, type PageWatch, watchPage } from './support/browser.js';

/**
 * The span lane as a component, through its mount API (the contract the replay timeline hosts it by), in Chromium
 * under the portal's CSP: a page with one empty element, span-lane.js and span-lane.css served as the portal
 * serves them. Spans are built here, so shapes a backend may send (cycles, missing parents, hostile text,
 * thousands of spans) are exact.
 */
const PUBLIC = resolve(import.meta.dirname, '../apps/web/public');
let server: Server;
let base = '';
let browser: Browser;
let page: Page;
let watch: PageWatch;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      const nonce = randomBytes(12).toString('base64');
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `default-src 'self'; script-src 'nonce-${nonce}' 'strict-dynamic'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'`,
      });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>lane</title>
<script src="/assets/span-lane.js" data-css="/assets/span-lane.css" nonce="${nonce}" defer></script></head>
<body><main><div id="lane"></div></main></body></html>`);
    } else if (path === '/assets/span-lane.js' || path === '/assets/span-lane.css') {
      res.writeHead(200, { 'content-type': path.endsWith('.js') ? 'text/javascript' : 'text/css' });
      res.end(readFileSync(join(PUBLIC, path.slice('/assets/'.length))));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  page = await (await newContext(browser)).newPage();
  watch = watchPage(page);
});
afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(null)));
});

const T0 = 1_796_000_000_000_000_000n;
interface Spec {
  id: string;
  parent?: string;
  name?: string;
  startMs: number;
  endMs: number;
  error?: boolean;
  attributes?: Record<string, unknown>;
}
const span = (s: Spec) => ({
  trace_id: 'ab'.repeat(16),
  span_id: s.id,
  parent_span_id: s.parent ?? null,
  name: s.name ?? `span ${s.id}`,
  service: s.id.startsWith('f') ? 'policy' : 'robot',
  kind: 'internal',
  start_unix_ns: String(T0 + BigInt(s.startMs) * 1_000_000n),
  end_unix_ns: String(T0 + BigInt(s.endMs) * 1_000_000n),
  status: s.error ? { code: 'error', message: 'boom' } : { code: 'unset' },
  attributes: s.attributes ?? {},
  events: [],
});
const hex16 = (i: number) => i.toString(16).padStart(16, '0');

/** Mounts the lane on #lane with these spans (timeline 0 = T0) and records what it emits. */
async function mount(spans: unknown[], options: Record<string, unknown> = {}): Promise<void> {
  await page.goto(base);
  await page.waitForFunction(() => 'RoboTraceSpanLane' in window);
  await page.evaluate(
    ({ spans, options, origin }) => {
      const w = window as unknown as {
        RoboTraceSpanLane: { mount: (el: Element, o: unknown) => unknown };
        lane: unknown;
        seeks: unknown[];
        events: unknown[];
      };
      w.seeks = [];
      w.events = [];
      const el = document.getElementById('lane') as HTMLElement;
      el.addEventListener('spanlane:seek', (e) => w.events.push((e as CustomEvent).detail));
      w.lane = w.RoboTraceSpanLane.mount(el, {
        trace: { status: 'found', source: 'jaeger', spans, truncated: false, total_spans: spans.length },
        originNs: origin,
        onSeek: (t: number, s: { span_id: string }) => w.seeks.push([t, s.span_id]),
        ...options,
      });
    },
    { spans, options, origin: String(T0) },
  );
  await page.locator('#lane[data-drawn="true"]').waitFor();
}
const call = (method: string, ...args: unknown[]) =>
  page.evaluate(
    ({ method, args }) =>
      (window as unknown as { lane: Record<string, (...a: unknown[]) => unknown> }).lane[method]?.(...args),
    { method, args },
  );

describe('span lane component (mount API)', () => {
  it('5,000 spans: every row reachable by keyboard while only the rows in view are elements', async () => {
    const spans = [span({ id: hex16(1), name: 'root', startMs: 0, endMs: 10_000 })];
    for (let i = 2; i <= 5000; i++)
      spans.push(span({ id: hex16(i), parent: hex16(1), name: `step ${i}`, startMs: i, endMs: i + 1 }));
    await mount(spans);
    await expect(page.locator('#lane').getAttribute('data-rows')).resolves.toBe('5000');
    const rendered = await page.locator('.span-lane-row').count();
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(120);
    await page.getByRole('button', { name: 'root', exact: true }).focus();
    await page.keyboard.press('End');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).resolves.toBe(
      'step 5000',
    );
    await page.keyboard.press('ArrowUp');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).resolves.toBe(
      'step 4999',
    );
    await page.keyboard.press('Enter');
    await expect(page.evaluate(() => (window as unknown as { seeks: unknown[] }).seeks)).resolves.toEqual([
      [4999 * 1e6, hex16(4999)],
    ]);
    expect(await page.locator('.span-lane-row').count()).toBeLessThan(120);
  });

  it('nests by parent; a cycle or a missing parent never hangs and every span is drawn', async () => {
    await mount([
      span({ id: hex16(1), parent: hex16(2), name: 'a', startMs: 0, endMs: 5 }),
      span({ id: hex16(2), parent: hex16(1), name: 'b', startMs: 1, endMs: 4 }),
      span({ id: hex16(3), parent: 'ffffffffffffffff', name: 'orphan', startMs: 2, endMs: 3 }),
      span({ id: hex16(4), name: 'root', startMs: 3, endMs: 9 }),
      span({ id: hex16(5), parent: hex16(4), name: 'child', startMs: 4, endMs: 6 }),
    ]);
    await expect(
      page.locator('.span-lane-row').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label'))),
    ).resolves.toEqual(['orphan', 'root', 'child', 'a', 'b']);
  });

  it('setPlayhead marks the active spans; a click seeks (callback and spanlane:seek event) and opens the details', async () => {
    await mount(
      [
        span({ id: hex16(1), name: 'rollout', startMs: 0, endMs: 3000 }),
        span({ id: hex16(2), parent: hex16(1), name: 'sensor.fetch', startMs: 100, endMs: 300 }),
        span({
          id: 'f000000000000003',
          parent: hex16(1),
          name: `<script>alert('x')</script>`,
          startMs: 1000,
          endMs: 1200,
          error: true,
          attributes: { doc: 'https://docs.example.com/a', bad: 'javascript:alert(1)', n: 3 },
        }),
      ],
      {
        window: { fromNs: 0, toNs: 2_000_000_000 },
        highlightSpanId: hex16(1),
        links: [{ name: 'Jaeger', url: `https://jaeger.example.com/t?span=${hex16(1)}` }],
        linkMarker: hex16(1),
      },
    );
    await call('setPlayhead', 150_000_000);
    const active = () =>
      page
        .locator('.span-lane-row[data-active="true"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    await expect(active()).resolves.toEqual(['rollout', 'sensor.fetch']);
    await call('setPlayhead', 1_100_000_000);
    await expect(active()).resolves.toEqual(['rollout', `<script>alert('x')</script>`]);
    // The view opens on the episode's window (5 % margin); Widen triples it around its centre; Whole trace fits all.
    const viewOf = async () =>
      [
        await page.locator('#lane').getAttribute('data-view-from-ns'),
        await page.locator('#lane').getAttribute('data-view-to-ns'),
      ].map(Number);
    await expect(viewOf()).resolves.toEqual([-100_000_000, 2_100_000_000]);
    await page.getByRole('button', { name: 'Widen' }).click();
    await expect(viewOf()).resolves.toEqual([-2_300_000_000, 4_300_000_000]);
    await page.getByRole('button', { name: 'Episode window' }).click();
    await expect(viewOf()).resolves.toEqual([-100_000_000, 2_100_000_000]);
    await page.getByRole('button', { name: 'Whole trace' }).click();
    await expect(viewOf()).resolves.toEqual([0, 3_000_000_000]);
    await call('setView', 0, 500_000_000);
    await expect(page.locator('#lane').getAttribute('data-view-to-ns')).resolves.toBe('500000000');

    await page.getByRole('button', { name: `<script>alert('x')</script>`, exact: true }).click();
    await expect(page.evaluate(() => (window as unknown as { events: unknown[] }).events)).resolves.toEqual([
      { t_ns: 1_000_000_000, span_id: 'f000000000000003' },
    ]);
    const details = page.getByRole('complementary', { name: 'Span details' });
    await expect(details.textContent()).resolves.toContain('policy');
    await expect(details.getByRole('link', { name: 'https://docs.example.com/a' }).count()).resolves.toBe(1);
    await expect(
      details.getByRole('link').evaluateAll((els) => els.map((e) => e.getAttribute('href'))),
    ).resolves.toEqual(['https://docs.example.com/a', 'https://jaeger.example.com/t?span=f000000000000003']);
    expect(watch.dialogs).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });

  it('a host that owns the time axis gets no zoom controls; a failed fetch says why', async () => {
    await mount([span({ id: hex16(1), startMs: 0, endMs: 1 })], { hostAxis: true, labelWidth: 0 });
    await expect(page.getByRole('button', { name: 'Widen' }).count()).resolves.toBe(0);
    // labelWidth 0: the bars use the host's full width, the name is written over them.
    await expect(page.locator('.span-lane-name').getAttribute('class')).resolves.toContain(
      'span-lane-name-over',
    );
    await page.evaluate(() => {
      const el = document.getElementById('lane') as HTMLElement;
      (
        window as unknown as { RoboTraceSpanLane: { mount: (e: Element, o: unknown) => unknown } }
      ).RoboTraceSpanLane.mount(el, {
        trace: { status: 'unavailable', reason: 'the backend answered HTTP 502', spans: [] },
      });
    });
    await expect(page.locator('[data-span-lane-status]').textContent()).resolves.toBe(
      'trace unavailable: the backend answered HTTP 502',
    );
    await expect(page.locator('#lane').getAttribute('data-status')).resolves.toBe('unavailable');
    expect(watch.errors).toEqual([]);
  });
});
