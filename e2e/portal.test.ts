import { readFileSync, statSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoVideo } from '../packages/sdk-ts/src/demo/video.js';
import { startServer, TEST_EMAIL, TEST_PASSWORD, type TestServer } from '../test/support/server.js';
import { api, logEpisode } from './support/api.js';
import {
  clearClipboard,
  launchBrowser,
  newContext,
  type PageWatch,
  readClipboard,
  screenshot,
  signIn,
  stubOrigin,
  watchPage,
} from './support/browser.js';

// The portal driven through Debian's Chromium against the started server on a fresh data dir (issue 5).

interface LinkCase {
  name: string;
  template: string;
  expect: string | null;
}
const vectors = JSON.parse(
  readFileSync(new URL('../spec/trace-context-vectors.json', import.meta.url), 'utf8'),
);
const linkCase = (name: string): LinkCase => {
  const c = (vectors.links.cases as LinkCase[]).find((x) => x.name === name);
  if (!c?.expect) throw new Error(`no links vector named ${name}`);
  return c;
};
const JAEGER = linkCase('Jaeger');
const DATADOG = linkCase('Datadog');

const OWNER = {
  name: 'Ada Owner',
  email: 'ada@example.com',
  password: 'rollouts-all-day-42',
  project: 'lab-arm',
};
const TRACE = vectors.links.otel.trace_id as string; // 4bf92f35…
const SPAN = vectors.links.otel.span_id as string;
const TRACEPARENT = vectors.links.otel.traceparent as string;
const SWEEP_SPAN = 'b7ad6b7169203331';
const PROBE_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PROBE_SPAN = 'e457b5a2e4d86bd1';
const PROBE_NAME = `<script>alert('name')</script>"><img src=x onerror=alert('img')>`;
const PROBE_TRACESTATE = 'xss=<script>alert(1)</script>';

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let key = '';
const ids = { pick: '', place: '', calibrate: '', probe: '' };

const base = () => server.baseUrl;
const tracing = () => page.getByRole('region', { name: 'Tracing' });

async function ensureSignedIn(): Promise<void> {
  await page.goto(`${base()}/portal/episodes`);
  if (new URL(page.url()).pathname === '/login') await signIn(page, base(), OWNER.email, OWNER.password);
}

beforeAll(async () => {
  // No headless bootstrap: the first visitor creates the owner and the first project.
  server = await startServer({
    env: {
      ROBOTRACE_INIT_EMAIL: '',
      ROBOTRACE_INIT_PASSWORD: '',
      ROBOTRACE_INIT_PROJECT: '',
      ROBOTRACE_INIT_API_KEY: '',
      NEXT_PUBLIC_TRACE_URL_TEMPLATE: '',
      ROBOTRACE_TRACE_LINKS: '',
    },
  });
  browser = await launchBrowser();
  context = await newContext(browser);
  await stubOrigin(context, 'https://jaeger.example.com');
  await stubOrigin(context, 'https://app.datadoghq.com');
  page = await context.newPage();
  watch = watchPage(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('portal', () => {
  it('the first visitor signs up as the owner with a first project; later sign-ups are closed', async () => {
    await page.goto(`${base()}/`);
    await page.waitForURL('**/signup');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('owner account');
    await page.getByLabel('Name', { exact: true }).fill(OWNER.name);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByLabel('Project name').fill(OWNER.project);
    await page.getByRole('button', { name: 'Create account and project' }).click();
    await page.waitForURL('**/portal/episodes');
    // Empty state: the one command to log a first episode.
    await expect(page.getByRole('heading', { name: 'No episodes yet' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('main').textContent()).resolves.toContain('npx robotrace demo');
    await expect(page.locator('.project').textContent()).resolves.toBe(OWNER.project);

    const stranger = await newContext(browser);
    const other = await stranger.newPage();
    const res = await other.goto(`${base()}/signup`);
    expect(res?.status()).toBe(403);
    await expect(other.getByRole('heading', { name: 'Sign-up is closed' }).isVisible()).resolves.toBe(true);
    // Better Auth's own endpoint refuses too (the hook, not only the page).
    const direct = await fetch(`${base()}/api/auth/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base() },
      body: JSON.stringify({ name: 'Eve', email: 'eve@example.com', password: 'not-the-owner-1' }),
    });
    expect(direct.ok).toBe(false);
    await stranger.close();
  });

  it('signs out, refuses a wrong password, and signs in at /login', async () => {
    await page.getByRole('button', { name: /^Sign out/ }).click();
    await page.waitForURL('**/login');
    const guarded = await page.goto(`${base()}/portal/settings`);
    expect(new URL(guarded?.url() ?? '').pathname).toBe('/login');

    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Wrong email or password');

    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back where the guard sent us from.
    await page.waitForURL('**/portal/settings');
  });

  it('creates an API key: shown once with copy buttons, then listed by name and prefix', async () => {
    await page.goto(`${base()}/portal/api-keys`);
    await page.getByLabel('Key name').fill('ci-runner');
    await page.getByRole('button', { name: 'Create key' }).click();
    key = (await page.locator('[data-new-key]').textContent()) ?? '';
    expect(key).toMatch(/^rt_[A-Za-z0-9_]{20,}$/);

    await page.getByRole('button', { name: 'Copy API key' }).click();
    await expect.poll(() => readClipboard(page)).toBe(key);
    await page.getByRole('button', { name: 'Copy ROBOTRACE_API_KEY line' }).click();
    await expect.poll(() => readClipboard(page)).toBe(`ROBOTRACE_API_KEY=${key}`);

    await page.goto(`${base()}/portal/api-keys`);
    const row = page.getByRole('row', { name: /ci-runner/ });
    await expect(row.textContent()).resolves.toContain(key.slice(0, 10));
    // Shown once: the listing never contains the full key.
    await expect(page.content()).resolves.not.toContain(key);
  });

  it('logs episodes through the HTTP API with the new key (with and without trace context)', async () => {
    ids.pick = await logEpisode(
      base(),
      key,
      {
        source: 'sim',
        name: 'pick-cube',
        robot: 'ur5',
        policy_version: 'v1.2',
        env_version: 'sim-3',
        git_sha: '9f8e7d6',
        seed: 42,
        fps: 15,
        metadata: { task: 'pick', gains: { kp: 1.5, kd: [0.1, 0.2] } },
        otel: { traceparent: TRACEPARENT },
      },
      { status: 'ready', duration_s: 3 },
      demoVideo(),
    );
    ids.place = await logEpisode(
      base(),
      key,
      {
        source: 'sim',
        name: 'place-cube',
        robot: 'ur5',
        policy_version: 'v1.2',
        otel: { traceparent: `00-${TRACE}-${SWEEP_SPAN}-00` },
      },
      { status: 'failed', duration_s: 4, failure_time_s: 2.5, metadata: { failure_reason: 'cube slipped' } },
    );
    ids.calibrate = await logEpisode(
      base(),
      key,
      { source: 'real', name: 'calibrate', robot: 'franka', policy_version: 'v0.9' },
      { status: 'ready', duration_s: 20 },
    );
    ids.probe = await logEpisode(
      base(),
      key,
      {
        source: 'replay',
        name: PROBE_NAME,
        robot: 'javascript:alert(1)',
        policy_version: '"><svg onload=alert(2)>',
        metadata: {
          note: `"><img src=x onerror=alert('meta')>`,
          url: 'javascript:alert(document.domain)',
          '<b onmouseover=alert(3)>key</b>': '<script>alert(4)</script>',
        },
        otel: { traceparent: `00-${PROBE_TRACE}-${PROBE_SPAN}-01`, tracestate: PROBE_TRACESTATE },
      },
      { status: 'failed', metadata: { failure_reason: `<script>alert('reason')</script>` } },
    );
    const listed = await api(base(), key, '/api/episodes?limit=10');
    expect(listed.status).toBe(200);
    expect((listed.json.data as unknown[]).length).toBe(4);
  });

  it('lists newest first with badges and trace indicators; filters stay in the URL', async () => {
    await page.goto(`${base()}/portal/episodes`);
    const names = await page.locator('tbody .name-cell a').allTextContents();
    expect(names).toEqual([PROBE_NAME, 'calibrate', 'place-cube', 'pick-cube']);
    const pickRow = page.getByRole('row', { name: /pick-cube/ });
    await expect(pickRow.getByText('Ready').isVisible()).resolves.toBe(true);
    await expect(pickRow.getByRole('link', { name: `Trace ${TRACE}` }).isVisible()).resolves.toBe(true);
    await expect(
      page
        .getByRole('row', { name: /calibrate/ })
        .getByRole('link', { name: /^Trace / })
        .count(),
    ).resolves.toBe(0);
    await screenshot(page, 'episodes-list');

    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/status=failed/);
    expect(await page.locator('tbody .name-cell a').allTextContents()).toEqual([PROBE_NAME, 'place-cube']);

    // A shared URL shows the same view.
    const shared = await context.newPage();
    await shared.goto(`${base()}/portal/episodes?source=sim&robot=ur5&policy_version=v1.2&status=ready`);
    expect(await shared.locator('tbody .name-cell a').allTextContents()).toEqual(['pick-cube']);
    await expect(shared.getByLabel('Robot', { exact: true }).inputValue()).resolves.toBe('ur5');
    await shared.close();

    // Keyset pages: newest first, "Older →" until the end.
    await page.goto(`${base()}/portal/episodes?limit=3`);
    expect(await page.locator('tbody .name-cell a').allTextContents()).toEqual([
      PROBE_NAME,
      'calibrate',
      'place-cube',
    ]);
    await page.getByRole('link', { name: 'Older →' }).click();
    await page.waitForURL(/cursor=/);
    expect(await page.locator('tbody .name-cell a').allTextContents()).toEqual(['pick-cube']);
    await expect(page.getByText('End of list').isVisible()).resolves.toBe(true);

    const calibrate = await api(base(), key, `/api/episodes/${ids.calibrate}`);
    const day = String(calibrate.json.created_at).slice(0, 10);
    await page.goto(`${base()}/portal/episodes?from=${day}&to=${day}&source=real`);
    expect(await page.locator('tbody .name-cell a').allTextContents()).toEqual(['calibrate']);
    await page.goto(`${base()}/portal/episodes?to=2000-01-01`);
    await expect(page.getByRole('heading', { name: 'No episodes match' }).isVisible()).resolves.toBe(true);
  });

  it('one search box finds names, policy versions, trace ids and traceparents', async () => {
    const search = async (q: string) => {
      await page.goto(`${base()}/portal/episodes`);
      await page.getByRole('searchbox', { name: 'Search episodes' }).fill(q);
      await page.getByRole('searchbox', { name: 'Search episodes' }).press('Enter');
      await page.waitForURL(/[?&]q=/);
      return page.locator('tbody .name-cell a').allTextContents();
    };
    expect(await search('calib')).toEqual(['calibrate']);
    expect(await search('v0.9')).toEqual(['calibrate']);
    expect(await search(`  ${TRACE.toUpperCase()} `)).toEqual(['place-cube', 'pick-cube']);
    await expect(page.getByRole('link', { name: 'Open the trace page' }).getAttribute('href')).resolves.toBe(
      `/portal/traces/${TRACE}`,
    );
    expect(await search(`00-${TRACE}-${SWEEP_SPAN}-00`)).toEqual(['place-cube']);
    expect(await search(TRACEPARENT)).toEqual(['pick-cube']);
    expect(await search(`https://ui.honeycomb.io/acme/datasets/robots/trace?trace_id=${TRACE}`)).toEqual([
      'place-cube',
      'pick-cube',
    ]);
    expect(await search(`1-${TRACE.slice(0, 8)}-${TRACE.slice(8)}`)).toEqual(['place-cube', 'pick-cube']);
    expect(await search(SWEEP_SPAN)).toEqual(['place-cube']);
  });

  it('detail: repro facts, snippet, video, metadata and the Tracing card without a link template', async () => {
    await page.goto(`${base()}/portal/episodes/${ids.pick}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('pick-cube');
    for (const [label, value] of [
      ['policy_version', 'v1.2'],
      ['env_version', 'sim-3'],
      ['git_sha', '9f8e7d6'],
      ['seed', '42'],
      ['robot', 'ur5'],
    ]) {
      await page.getByRole('button', { name: `Copy ${label}`, exact: true }).click();
      await expect.poll(() => readClipboard(page)).toBe(value);
    }
    await page.getByText('Reproduce snippet').click();
    await page.getByRole('button', { name: 'Copy reproduce snippet' }).click();
    await expect.poll(() => readClipboard(page)).toContain('git checkout 9f8e7d6');

    // The video streams from the artifact URL with the portal session (range requests).
    const video = page.locator('video');
    await expect(video.getAttribute('src')).resolves.toBe(`/api/episodes/${ids.pick}/artifact/video`);
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(1);
    const ranged = await page.request.get(`${base()}/api/episodes/${ids.pick}/artifact/video`, {
      headers: { range: 'bytes=0-15' },
    });
    expect(ranged.status()).toBe(206);
    const signedOut = await fetch(`${base()}/api/episodes/${ids.pick}/artifact/video`, {
      redirect: 'manual',
    });
    expect(signedOut.status).toBe(401);

    // Metadata: collapsible tree of escaped text.
    await expect(page.locator('.metadata').textContent()).resolves.toContain('"pick"');

    // Tracing card: ids with copy buttons, sampled, no "Open trace" without a template.
    const card = tracing();
    await expect(card.textContent()).resolves.toContain(TRACE);
    for (const [label, value] of [
      ['trace_id', TRACE],
      ['span_id', SPAN],
      ['traceparent', TRACEPARENT],
    ]) {
      await clearClipboard(page);
      await card.getByRole('button', { name: `Copy ${label}`, exact: true }).click();
      await expect.poll(() => readClipboard(page)).toBe(value);
    }
    await expect(card.getByText('yes', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(card.getByRole('link', { name: /Open trace/ }).count()).resolves.toBe(0);
    await expect(
      card.getByRole('link', { name: 'Other episodes in this trace: 1' }).isVisible(),
    ).resolves.toBe(true);
    // `y` copies the trace id even without a template; the hint says so.
    await clearClipboard(page);
    await page.locator('h1').click();
    await page.keyboard.press('y');
    await expect.poll(() => readClipboard(page)).toBe(TRACE);
    await expect(card.textContent()).resolves.toContain('to copy the trace id');

    // No otel block → no Tracing card at all.
    await page.goto(`${base()}/portal/episodes/${ids.calibrate}`);
    await expect(tracing().count()).resolves.toBe(0);

    // Failed episode: the reason and the time.
    await page.goto(`${base()}/portal/episodes/${ids.place}`);
    await expect(page.getByRole('note', { name: 'Failure' }).textContent()).resolves.toContain(
      'cube slipped',
    );
    await expect(tracing().textContent()).resolves.toMatch(/sampled\s*no/);
  });

  it('with a template: "Open trace" is the spec URL, `t` opens it, and refused templates are reported', async () => {
    await server.restart({
      NEXT_PUBLIC_TRACE_URL_TEMPLATE: JAEGER.template,
      ROBOTRACE_TRACE_LINKS: JSON.stringify([
        { name: 'Datadog', url: DATADOG.template },
        { name: 'Evil', url: 'javascript:alert(1)//{trace_id}' },
        { name: 'Relative', url: '/trace/{trace_id}' },
      ]),
    });
    expect(server.output()).toMatch(/refused ROBOTRACE_TRACE_LINKS\[1\] "Evil".*"javascript:" scheme/);
    expect(server.output()).toMatch(/refused ROBOTRACE_TRACE_LINKS\[2\] "Relative".*not an absolute URL/);
    await ensureSignedIn();

    await page.goto(`${base()}/portal/episodes/${ids.pick}`);
    const open = tracing().getByRole('link', { name: 'Open trace' });
    await expect(open.getAttribute('href')).resolves.toBe(JAEGER.expect);
    await expect(open.getAttribute('target')).resolves.toBe('_blank');
    await expect(open.getAttribute('rel')).resolves.toBe('noopener noreferrer');
    await expect(tracing().getByRole('link', { name: 'Open in Datadog' }).getAttribute('href')).resolves.toBe(
      DATADOG.expect,
    );
    await expect(
      tracing()
        .getByRole('link', { name: /Evil|Relative/ })
        .count(),
    ).resolves.toBe(0);
    await expect(tracing().textContent()).resolves.toContain('to open the trace');
    await screenshot(page, 'episode-detail');

    // `t` opens the first trace link in a new tab.
    await page.locator('h1').click();
    const [popup] = await Promise.all([context.waitForEvent('page'), page.keyboard.press('t')]);
    await popup.waitForLoadState();
    expect(popup.url()).toBe(JAEGER.expect);
    await popup.close();

    // Settings: each template with its preview, and a clear message for the refused ones.
    await page.goto(`${base()}/portal/settings`);
    const settings = page.locator('main');
    await expect(settings.textContent()).resolves.toContain(JAEGER.expect);
    const alerts = await page.getByRole('alert').allTextContents();
    expect(alerts.some((a) => a.includes('refused') && a.includes('"javascript:" scheme'))).toBe(true);
    expect(alerts.some((a) => a.includes('not an absolute URL'))).toBe(true);
  });

  it('the trace page lists every episode of the trace in time order, with span ids and the links', async () => {
    await page.goto(`${base()}/portal/episodes/${ids.pick}`);
    await tracing().getByRole('link', { name: 'Other episodes in this trace: 1' }).click();
    await page.waitForURL(`**/portal/traces/${TRACE}`);
    const rows = page.getByRole('list', { name: 'Episodes of this trace' }).getByRole('listitem');
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.nth(0).textContent()).resolves.toContain('pick-cube');
    await expect(rows.nth(0).textContent()).resolves.toContain(SPAN);
    await expect(rows.nth(1).textContent()).resolves.toContain('place-cube');
    await expect(rows.nth(1).textContent()).resolves.toContain(SWEEP_SPAN);
    await expect(page.getByRole('link', { name: 'Open trace' }).getAttribute('href')).resolves.toBe(
      JAEGER.expect,
    );
    await screenshot(page, 'trace-page');
    // Any case in the URL leads to the same page.
    await page.goto(`${base()}/portal/traces/${TRACE.toUpperCase()}`);
    expect(new URL(page.url()).pathname).toBe(`/portal/traces/${TRACE}`);
  });

  it('XSS probes in names, metadata and tracestate render as text and never run', async () => {
    const before = watch.dialogs.length;
    await page.goto(`${base()}/portal/episodes`);
    await page.goto(`${base()}/portal/episodes?q=${encodeURIComponent(PROBE_NAME)}`);
    await page.goto(`${base()}/portal/episodes/${ids.probe}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain(PROBE_NAME);
    await expect(tracing().textContent()).resolves.toContain(PROBE_TRACESTATE);
    await tracing().getByRole('button', { name: 'Copy tracestate' }).click();
    await expect.poll(() => readClipboard(page)).toBe(PROBE_TRACESTATE);
    await expect(page.locator('.metadata').textContent()).resolves.toContain(
      'javascript:alert(document.domain)',
    );
    await expect(page.locator('img, svg, b[onmouseover]').count()).resolves.toBe(0);
    await page.mouse.move(400, 500);
    await page.goto(`${base()}/portal/traces/${PROBE_TRACE}`);
    await expect(page.locator('main').textContent()).resolves.toContain(PROBE_NAME);
    for (const path of [
      `/portal/episodes/${ids.probe}`,
      `/portal/traces/${PROBE_TRACE}`,
      '/portal/episodes',
      '/portal/settings',
    ]) {
      await page.goto(`${base()}${path}`);
      const hrefs = await page
        .locator('[href]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('href') ?? ''));
      expect(hrefs.filter((h) => /^\s*(javascript|data|vbscript):/i.test(h))).toEqual([]);
      const scripts = await page
        .locator('script')
        .evaluateAll((els) => els.map((e) => e.getAttribute('src')));
      // Only our own assets (portal.js, and span-lane.js since the span lane); nothing a probe injected.
      expect(scripts.length).toBeGreaterThan(0);
      expect(scripts.filter((src) => !src?.startsWith('/assets/'))).toEqual([]);
    }
    expect(watch.dialogs.slice(before)).toEqual([]);
    expect(watch.errors).toEqual([]);
    // Our own script, styles and video all load under the CSP; nothing else tried to.
    expect(watch.cspViolations).toEqual([]);
  });

  it('restarting with a different template changes the href without a rebuild', async () => {
    const built = statSync('apps/web/dist/main.js').mtimeMs;
    await server.restart({ NEXT_PUBLIC_TRACE_URL_TEMPLATE: DATADOG.template, ROBOTRACE_TRACE_LINKS: '' });
    await ensureSignedIn();
    await page.goto(`${base()}/portal/episodes/${ids.pick}`);
    await expect(tracing().getByRole('link', { name: 'Open trace' }).getAttribute('href')).resolves.toBe(
      DATADOG.expect,
    );
    expect(statSync('apps/web/dist/main.js').mtimeMs).toBe(built);
  });

  it('pages carry a nonce CSP; cross-site form posts and signed-out calls are refused', async () => {
    const res = await page.goto(`${base()}/portal/episodes/${ids.pick}`);
    const csp = res?.headers()['content-security-policy'] ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("'strict-dynamic'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    await expect(
      page
        .locator('script')
        .evaluateAll((els) => [...new Set(els.map((s) => (s as HTMLScriptElement).nonce))]),
    ).resolves.toEqual([nonce]);

    const cookie = (await context.cookies(base())).map((c) => `${c.name}=${c.value}`).join('; ');
    const forged = await fetch(`${base()}/portal/api-keys`, {
      method: 'POST',
      headers: {
        cookie,
        origin: 'https://evil.example.com',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'name=stolen',
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
    const anonymous = await fetch(`${base()}/portal/episodes/${ids.pick}`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toMatch(/^\/login/);

    for (const path of ['/portal/episodes/not-a-uuid', '/portal/traces/xyz', '/portal/nothing-here']) {
      const r = await page.goto(`${base()}${path}`);
      expect(r?.status()).toBe(404);
      await expect(page.getByRole('heading', { name: 'Not found' }).isVisible()).resolves.toBe(true);
    }
  });

  it("another project's episode and trace are 404 pages", async () => {
    await server.restart({ ROBOTRACE_ALLOW_SIGNUP: '1' });
    const otherContext = await newContext(browser);
    const other = await otherContext.newPage();
    await other.goto(`${base()}/signup`);
    await other.getByLabel('Name', { exact: true }).fill('Bob');
    await other.getByLabel('Email').fill('bob@example.com');
    await other.getByLabel('Password').fill('another-lab-password');
    await other.getByLabel('Project name').fill('other-lab');
    await other.getByRole('button', { name: 'Create account' }).click();
    await other.waitForURL('**/portal/episodes');
    await expect(other.getByRole('heading', { name: 'No episodes yet' }).isVisible()).resolves.toBe(true);
    for (const path of [`/portal/episodes/${ids.pick}`, `/portal/traces/${TRACE}`]) {
      const r = await other.goto(`${base()}${path}`);
      expect(r?.status()).toBe(404);
      await expect(other.locator('main').textContent()).resolves.not.toContain('pick-cube');
    }
    const artifact = await other.request.get(`${base()}/api/episodes/${ids.pick}/artifact/video`, {
      maxRedirects: 0,
    });
    expect(artifact.status()).toBe(404);
    await otherContext.close();
  });

  it('revoking the key in the portal makes the API refuse it', async () => {
    await ensureSignedIn();
    expect((await api(base(), key, '/api/episodes?limit=1')).status).toBe(200);
    await page.goto(`${base()}/portal/api-keys`);
    const row = page.getByRole('row', { name: /ci-runner/ });
    await row.getByText('Revoke', { exact: true }).click();
    await row.getByRole('button', { name: 'Confirm revoking ci-runner' }).click();
    await page.waitForURL('**/portal/api-keys');
    await expect(page.getByRole('row', { name: /ci-runner/ }).textContent()).resolves.toContain('Revoked');
    const refused = await api(base(), key, '/api/episodes?limit=1');
    expect(refused.status).toBe(401);
    await screenshot(page, 'api-keys');
  });
});

describe('headless bootstrap user', () => {
  it('signs in at /login with the bootstrap credentials and sees the bootstrap project', async () => {
    const boot = await startServer();
    const ctx = await newContext(browser, 'dark');
    try {
      const p = await ctx.newPage();
      await p.goto(`${boot.baseUrl}/`);
      await p.waitForURL('**/login');
      await signIn(p, boot.baseUrl, TEST_EMAIL, TEST_PASSWORD);
      await expect(p.locator('.project').textContent()).resolves.toBe('demo');
      await screenshot(p, 'episodes-empty-dark');
    } finally {
      await ctx.close();
      await boot.stop();
    }
  });
});
