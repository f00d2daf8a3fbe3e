import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ArtifactKind } from '@robotrace/contracts';
import { createDb, episode } from '@robotrace/db';
import { inArray, sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npz } from '../packages/sdk-ts/src/demo/npz.js';
import { MOTO_CREDENTIALS, startMoto, type TestS3 } from '../test/support/moto.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';
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
 * Issue 20 in a real Chromium against the started server (PGlite, local disk): Delete on the episode page (the
 * files leave the store's directory) and for rows selected in the list, a referenced episode refused and then
 * deleted with its links, retention in the settings (the next sweep's preview, a refused value named), and the
 * storage used matching what was uploaded. Names carry an XSS probe: no dialog, page error or CSP report anywhere.
 */
const HOSTILE = `<img src=x onerror=alert('lifecycle')>`;
let server: TestServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;

beforeAll(async () => {
  // The data dir is kept across the stop → restart of the retention test (removed in afterAll).
  // The sweeper runs only at start (interval 0): the retention test restarts the server to sweep when it means to.
  server = await startServer({ keepDataDir: true, env: { ROBOTRACE_SWEEP_INTERVAL_S: '0' } });
  browser = await launchBrowser();
  page = await (await newContext(browser)).newPage();
  watch = watchPage(page);
  await signIn(page, server.baseUrl, TEST_EMAIL, TEST_PASSWORD);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (server) rmSync(server.dataDir, { recursive: true, force: true });
});

const sensors = () =>
  npz({
    _t_ns: { dtype: 'int64', shape: [4], data: [0n, 10_000_000n, 20_000_000n, 30_000_000n] },
    joint: { dtype: 'float32', shape: [4], data: [0.1, 0.2, 0.3, 0.4] },
  });
const video = (size: number) => new Uint8Array(size).fill(7);

/** Logs an episode as the SDKs do (create → PUT each file → finalize); answers its id. */
async function logWith(
  name: string,
  files: Partial<Record<ArtifactKind, Uint8Array>>,
  status: 'ready' | 'failed' = 'ready',
): Promise<string> {
  const kinds = Object.keys(files) as ArtifactKind[];
  const created = await api(server.baseUrl, server.apiKey, '/api/ingest/episode', {
    source: 'sim',
    name,
    request_uploads: kinds,
  });
  expect(created.status).toBe(201);
  const id = String(created.json.episode_id);
  for (const slot of created.json.upload_urls as { kind: ArtifactKind; url: string }[]) {
    const put = await fetch(slot.url, {
      method: 'PUT',
      headers: { 'content-type': slot.kind === 'video' ? 'video/mp4' : 'application/octet-stream' },
      body: Buffer.from(files[slot.kind] ?? new Uint8Array()),
    });
    expect(put.status, slot.kind).toBe(200);
  }
  const done = await api(server.baseUrl, server.apiKey, `/api/ingest/episode/${id}/finalize`, {
    status,
    duration_s: 1,
    ...(status === 'failed' ? { failure_time_s: 0.5 } : {}),
  });
  expect(done.status).toBe(200);
  return id;
}

/**
 * The artifacts of this episode in the local store's directory (keys are <project>/<episode>/<kind>; each file has
 * a `.meta` sidecar with its content type). `all` lists the sidecars too: after a delete, nothing may be left.
 */
function storedFiles(episodeId: string, o: { all?: boolean } = {}): string[] {
  const root = join(server.dataDir, 'artifacts');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
    (p) => p.split('/').includes(episodeId) && !p.endsWith(episodeId) && (o.all || !p.endsWith('.meta')),
  );
}

const apiStatus = async (path: string) =>
  (await fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${server.apiKey}` } })).status;

async function goto(path: string, status = 200): Promise<void> {
  const res = await page.goto(`${server.baseUrl}${path}`);
  expect(res?.status(), path).toBe(status);
}

/**
 * Runs `work` with the server stopped (the embedded database and the admin command need it to themselves), then
 * starts it again on the same data dir. The session cookie outlives the restart (cookies are per host, not port).
 */
async function whileStopped<T>(work: () => Promise<T>): Promise<T> {
  await server.stop();
  try {
    return await work();
  } finally {
    await server.restart();
  }
}

function admin(...args: string[]): string {
  return execFileSync(process.execPath, ['apps/web/dist/admin.js', ...args], {
    env: { ...process.env, ROBOTRACE_DATA_DIR: server.dataDir, ROBOTRACE_LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
}

const text = async (selector: string) =>
  ((await page.locator(selector).textContent()) ?? '').replace(/\s+/g, ' ');

describe('deleting episodes in the portal', () => {
  it('Delete on the episode page names what goes, removes the files from the store and lands on the list', async () => {
    const id = await logWith(`delete me ${HOSTILE}`, { video: video(3000), sensors: sensors() });
    const bytesOfFiles = 3000 + sensors().length;
    expect(storedFiles(id)).toHaveLength(2);

    await goto(`/portal/episodes/${id}`);
    await page.getByRole('link', { name: 'Delete…' }).click();
    await page.waitForURL(/\/portal\/episodes\/delete\?ids=/);
    expect(await page.locator('h1').textContent()).toBe(`Delete “delete me ${HOSTILE}”?`);
    const summary = page.locator('[data-delete-summary]');
    expect(await summary.getAttribute('data-episodes')).toBe('1');
    expect(await summary.getAttribute('data-artifacts')).toBe('2');
    expect(await summary.getAttribute('data-bytes')).toBe(String(bytesOfFiles));
    expect(await text('[data-delete-summary] p')).toContain('1 episode, 2 artifacts');
    expect(await page.locator('[data-delete-references]').count()).toBe(0);

    await page.getByRole('button', { name: 'Delete 1 episode' }).click();
    await page.waitForURL(/\/portal\/episodes\?deleted=1/);
    expect(await text('[data-deleted-notice]')).toContain('Deleted 1 episode — 2 artifacts');
    expect(await page.locator(`a[href="/portal/episodes/${id}"]`).count()).toBe(0);

    expect(storedFiles(id, { all: true })).toEqual([]);
    expect(await apiStatus(`/api/episodes/${id}`)).toBe(404);
    await goto(`/portal/episodes/${id}`, 404);
    // The confirmation of an id that is gone is a 404 too, never an empty "delete nothing" form.
    await goto(`/portal/episodes/delete?ids=${id}`, 404);
  });

  it('Delete selected in the list deletes exactly the checked rows', async () => {
    const tag = `bulk-${Date.now()}`;
    const a = await logWith(`${tag} a`, { video: video(1000) });
    const b = await logWith(`${tag} b ${HOSTILE}`, { video: video(2000) });
    const keep = await logWith(`${tag} keep`, { video: video(500) });

    await goto(`/portal/episodes?q=${tag}`);
    await page.locator(`input[data-compare-select][value="${a}"]`).check();
    await page.locator(`input[data-compare-select][value="${b}"]`).check();
    await page.getByRole('button', { name: 'Delete selected…' }).click();
    await page.waitForURL(/\/portal\/episodes\/delete\?/);
    expect(await page.locator('h1').textContent()).toBe('Delete 2 episodes?');
    expect(await page.locator('[data-delete-summary]').getAttribute('data-bytes')).toBe('3000');
    const listed = await page
      .locator('[data-delete-episode]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-delete-episode')));
    expect(listed.sort()).toEqual([a, b].sort());

    await page.getByRole('button', { name: 'Delete 2 episodes' }).click();
    await page.waitForURL(/\/portal\/episodes\?deleted=2/);
    expect(await text('[data-deleted-notice]')).toContain('Deleted 2 episodes — 2 artifacts');
    expect(await apiStatus(`/api/episodes/${a}`)).toBe(404);
    expect(await apiStatus(`/api/episodes/${b}`)).toBe(404);
    expect(await apiStatus(`/api/episodes/${keep}`)).toBe(200);
    expect([...storedFiles(a, { all: true }), ...storedFiles(b, { all: true })]).toEqual([]);
    expect(storedFiles(keep)).toHaveLength(1);

    await goto(`/portal/episodes?q=${tag}`);
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(await page.locator(`a[href="/portal/episodes/${keep}"]`).count()).toBe(1);
  });

  it('an episode promoted into verification is refused, naming the scenario, then deleted with its link', async () => {
    const id = await logWith('gate baseline', { video: video(800) });
    const scenario = `must not slip ${HOSTILE}`;
    await goto(`/portal/episodes/${id}`);
    await page.getByLabel('Scenario name').fill(scenario);
    await page.getByRole('button', { name: 'Promote' }).click();
    await page.locator('[data-promoted]').waitFor();

    await page.getByRole('link', { name: 'Delete…' }).click();
    await page.waitForURL(/\/portal\/episodes\/delete\?ids=/);
    expect(await text('[data-delete-references]')).toContain(scenario);
    await screenshot(page, 'lifecycle-delete-confirm');

    // Without "also remove the links": refused, the episode and its file stay.
    await page.getByRole('button', { name: 'Delete 1 episode' }).click();
    await page.locator('[data-delete-references][role="alert"]').waitFor();
    expect(await text('[data-delete-references]')).toContain('Not deleted');
    expect(await text('[data-delete-references]')).toContain(scenario);
    expect(await apiStatus(`/api/episodes/${id}`)).toBe(200);
    expect(storedFiles(id)).toHaveLength(1);

    await page.getByLabel('Also remove the links from these eval runs and scenarios').check();
    await page.getByRole('button', { name: 'Delete 1 episode' }).click();
    await page.waitForURL(/\/portal\/episodes\?deleted=1/);
    expect(await apiStatus(`/api/episodes/${id}`)).toBe(404);
    expect(storedFiles(id, { all: true })).toEqual([]);
    await goto('/portal/verify');
    expect(await page.locator(`[data-scenario]`).filter({ hasText: 'must not slip' }).count()).toBe(0);
  });

  it('a form post from another origin is refused and deletes nothing', async () => {
    const id = await logWith('csrf target', { video: video(100) });
    const res = await fetch(`${server.baseUrl}/portal/episodes/delete`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; '),
      },
      body: `ids=${id}&unlink_references=1`,
    });
    expect(res.status).toBe(403);
    expect(await apiStatus(`/api/episodes/${id}`)).toBe(200);
    expect(storedFiles(id)).toHaveLength(1);
  });

  it('a store that refuses the delete: gone from the portal at once, the notice and the settings say the files are pending, a restart finishes', async () => {
    const id = await logWith('stuck file', { video: video(700) });
    // The disk refuses: where the video file was there is now a non-empty directory, which the store cannot rm.
    const [file] = storedFiles(id);
    const path = join(server.dataDir, 'artifacts', file ?? 'missing');
    rmSync(path);
    mkdirSync(path);
    writeFileSync(join(path, 'blocker'), 'x');

    await goto(`/portal/episodes/${id}`);
    await page.getByRole('link', { name: 'Delete…' }).click();
    await page.getByRole('button', { name: 'Delete 1 episode' }).click();
    await page.waitForURL(/\/portal\/episodes\?deleted=1/);
    expect(await text('[data-deleted-notice] [data-pending-storage]')).toContain(
      'Storage refused to delete the files of 1 episode',
    );
    expect(await apiStatus(`/api/episodes/${id}`)).toBe(404);
    await goto(`/portal/episodes/${id}`, 404);
    await goto('/portal/settings');
    const pending = page.locator('[data-storage] [data-pending-storage]');
    expect(await pending.getAttribute('data-pending-storage')).toBe('1');
    expect(await text('[data-storage] [data-pending-storage]')).toContain('Last refusal');

    // The disk accepts again; the sweeper's run at start retries the file.
    rmSync(path, { recursive: true, force: true });
    writeFileSync(path, 'the file is back');
    await whileStopped(async () => {});
    while (storedFiles(id, { all: true }).length > 0) await new Promise((done) => setTimeout(done, 100));
    await goto('/portal/settings');
    expect(await page.locator('[data-storage] [data-pending-storage]').count()).toBe(0);
  });

  it("another project's episode is a 404 on the confirmation and on the post, and stays", async () => {
    const otherKey = await whileStopped(async () => {
      admin('create-project', 'other');
      const out = admin('create-key', '--project', 'other');
      return /ROBOTRACE_API_KEY=(\S+)/.exec(out)?.[1] ?? '';
    });
    expect(otherKey).toMatch(/^rt_/);
    const created = await api(server.baseUrl, otherKey, '/api/ingest/episode', {
      source: 'sim',
      name: 'not yours',
      request_uploads: [],
    });
    expect(created.status).toBe(201);
    const foreign = String(created.json.episode_id);

    await goto(`/portal/episodes/delete?ids=${foreign}`, 404);
    await goto('/portal/episodes');
    // Posted from the portal's own page (same origin, with the session): still nothing of another project goes.
    const status = await page.evaluate(async (id) => {
      const res = await fetch('/portal/episodes/delete', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `ids=${id}&unlink_references=1`,
      });
      return res.status;
    }, foreign);
    expect(status).toBe(404);
    const still = await fetch(`${server.baseUrl}/api/episodes/${foreign}`, {
      headers: { authorization: `Bearer ${otherKey}` },
    });
    expect(still.status).toBe(200);
  });
});

describe('storage and retention in the settings', () => {
  it('storage used matches the uploaded artifacts, by kind, with the largest episodes linked', async () => {
    await logWith(`big one ${HOSTILE}`, { video: video(50_000), sensors: sensors() });
    const listed = await api(server.baseUrl, server.apiKey, '/api/episodes?limit=200');
    const episodes = listed.json.data as {
      id: string;
      artifacts: { kind: string; uploaded: boolean; size_bytes: number | null }[];
    }[];
    const byKind = new Map<string, { artifacts: number; bytes: number }>();
    for (const e of episodes)
      for (const a of e.artifacts.filter((x) => x.uploaded)) {
        const k = byKind.get(a.kind) ?? { artifacts: 0, bytes: 0 };
        byKind.set(a.kind, { artifacts: k.artifacts + 1, bytes: k.bytes + (a.size_bytes ?? 0) });
      }
    const total = [...byKind.values()].reduce((s, k) => s + k.bytes, 0);

    await goto('/portal/settings');
    const card = page.locator('[data-storage]');
    expect(await card.getAttribute('data-storage-bytes')).toBe(String(total));
    expect(await card.getAttribute('data-storage-episodes')).toBe(String(episodes.length));
    expect(await card.getAttribute('data-storage-artifacts')).toBe(
      String([...byKind.values()].reduce((s, k) => s + k.artifacts, 0)),
    );
    for (const [kind, k] of byKind) {
      const row = card.locator(`tr[data-kind="${kind}"]`);
      expect(await row.getAttribute('data-artifacts'), kind).toBe(String(k.artifacts));
      expect(await row.getAttribute('data-bytes'), kind).toBe(String(k.bytes));
    }
    const first = card.locator('ol.largest li').first();
    expect(await first.locator('a').textContent()).toBe(`big one ${HOSTILE}`);
    await first.locator('a').click();
    await page.waitForURL(/\/portal\/episodes\/[0-9a-f-]{36}$/);
    expect(await page.locator('h1').textContent()).toContain('big one');
  });

  it('retention set in the settings shows what the next sweep deletes; out-of-range values are refused by name', async () => {
    const old = await logWith(`forty days old ${HOSTILE}`, { video: video(1200) });
    const oldFailed = await logWith('ten days old, failed', { video: video(300) }, 'failed');
    const recentFailed = await logWith('two days old, failed', { video: video(300) }, 'failed');
    // Age three episodes in the database itself.
    await whileStopped(async () => {
      const dbh = await createDb({ kind: 'pglite', dataDir: server.dataDir });
      try {
        const age = async (id: string, days: number) =>
          dbh.db
            .update(episode)
            .set({ createdAt: sql`now() - make_interval(days => ${days})` })
            .where(inArray(episode.id, [id]));
        await age(old, 40);
        await age(oldFailed, 10);
        await age(recentFailed, 2);
      } finally {
        await dbh.close();
      }
    });

    await goto('/portal/settings');
    expect(await page.locator('[data-next-sweep]').getAttribute('data-next-sweep')).toBe('off');
    await page.getByLabel('Keep episodes for (days)').fill('30');
    await page.getByLabel('Keep failed episodes for (days)').fill('7');
    await page.getByRole('button', { name: 'Save retention' }).click();
    await page.waitForURL(/\/portal\/settings/);
    expect(await text('[data-keep-days]')).toBe('30 days');
    expect(await text('[data-keep-failed-days]')).toBe('7 days');
    const next = page.locator('[data-next-sweep]');
    expect(await next.getAttribute('data-next-sweep')).toBe('2');
    expect(await next.getAttribute('data-next-sweep-bytes')).toBe('1500');
    const sample = await next.locator('.sweep-sample a').allTextContents();
    expect(sample.sort()).toEqual([`forty days old ${HOSTILE}`, 'ten days old, failed'].sort());
    await screenshot(page, 'lifecycle-settings');
    // A preview deletes nothing.
    expect(await apiStatus(`/api/episodes/${old}`)).toBe(200);
    expect(storedFiles(old)).toHaveLength(1);

    for (const bad of ['0', '3651', '2.5']) {
      await page.getByLabel('Keep episodes for (days)').fill(bad);
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/portal/settings/retention')),
        page.getByRole('button', { name: 'Save retention' }).click(),
      ]);
      expect(res.status(), bad).toBe(400);
      await page.locator('#retention-error').waitFor();
      expect(await text('#retention-error')).toContain('Keep episodes for (days)');
      expect(await page.getByLabel('Keep episodes for (days)').inputValue()).toBe(bad);
      expect(await text('[data-keep-days]')).toBe('30 days');
    }
    await page.getByLabel('Keep episodes for (days)').fill('30');
    await page.getByLabel('Keep failed episodes for (days)').fill('99999');
    await page.getByRole('button', { name: 'Save retention' }).click();
    await page.locator('#retention-error').waitFor();
    expect(await text('#retention-error')).toContain('Keep failed episodes for (days)');

    // A restart sweeps (the sweeper runs at start): the two expired episodes go with their files, the rest stays.
    await whileStopped(async () => {});
    for (;;) {
      const r = await api(server.baseUrl, server.apiKey, '/api/project/retention');
      if (r.json.last_sweep !== null) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    expect(await apiStatus(`/api/episodes/${old}`)).toBe(404);
    expect(await apiStatus(`/api/episodes/${oldFailed}`)).toBe(404);
    expect(await apiStatus(`/api/episodes/${recentFailed}`)).toBe(200);
    expect([...storedFiles(old, { all: true }), ...storedFiles(oldFailed, { all: true })]).toEqual([]);
    await goto('/portal/settings');
    expect(await page.locator('[data-last-sweep]').getAttribute('data-last-sweep')).toBe('2');
    expect(await text('[data-last-sweep]')).toContain('2 episodes · 1.5 KB freed');
    expect(await page.locator('[data-next-sweep]').getAttribute('data-next-sweep')).toBe('0');

    // Both empty: retention off again.
    await page.getByLabel('Keep episodes for (days)').fill('');
    await page.getByLabel('Keep failed episodes for (days)').fill('');
    await page.getByRole('button', { name: 'Save retention' }).click();
    await page.waitForURL(/\/portal\/settings/);
    expect(await text('[data-keep-days]')).toBe('forever');
    expect(await page.locator('[data-next-sweep]').getAttribute('data-next-sweep')).toBe('off');
  });

  it('no page tripped an XSS probe or the Content-Security-Policy', () => {
    expect(watch.dialogs).toEqual([]);
    expect(watch.errors).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });
});

describe('on PostgreSQL + S3 (moto)', () => {
  const BUCKET = 'lifecycle-portal';
  let pg: TestPostgres;
  let s3: TestS3;
  const objectsOf = async (episodeId: string) =>
    ((await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? [])
      .map((o) => o.Key ?? '')
      .filter((k) => k.split('/').includes(episodeId));

  beforeAll(async () => {
    // The PGlite server's part is done: this block runs the same portal on the deployment's stack.
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
    pg = await startPostgres();
    s3 = await startMoto();
    await s3.createBucket(BUCKET);
    server = await startServer({
      env: {
        DATABASE_URL: await pg.createDatabase(),
        ROBOTRACE_SECRET: 'lifecycle-portal-secret-'.padEnd(64, 'x'),
        ROBOTRACE_STORAGE: 's3',
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: BUCKET,
        S3_REGION: 'us-east-1',
        S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        S3_FORCE_PATH_STYLE: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    await page.context().clearCookies();
    await signIn(page, server.baseUrl, TEST_EMAIL, TEST_PASSWORD);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await s3?.stop();
    await pg?.stop();
  });

  it('Delete on the episode page removes the objects from the bucket; the settings count what is left', async () => {
    const gone = await logWith(`s3 delete me ${HOSTILE}`, { video: video(4000), sensors: sensors() });
    const keep = await logWith('s3 keep', { video: video(900) });
    expect(await objectsOf(gone)).toHaveLength(2);

    await goto(`/portal/episodes/${gone}`);
    await page.getByRole('link', { name: 'Delete…' }).click();
    expect(await page.locator('[data-delete-summary]').getAttribute('data-bytes')).toBe(
      String(4000 + sensors().length),
    );
    await page.getByRole('button', { name: 'Delete 1 episode' }).click();
    await page.waitForURL(/\/portal\/episodes\?deleted=1/);
    expect(await text('[data-deleted-notice]')).toContain('Deleted 1 episode — 2 artifacts');
    expect(await page.locator('[data-deleted-notice] [data-pending-storage]').count()).toBe(0);
    expect(await objectsOf(gone)).toEqual([]);
    expect(await apiStatus(`/api/episodes/${gone}`)).toBe(404);
    expect(await objectsOf(keep)).toHaveLength(1);

    await goto('/portal/settings');
    const card = page.locator('[data-storage]');
    expect(await card.getAttribute('data-storage-episodes')).toBe('1');
    expect(await card.getAttribute('data-storage-artifacts')).toBe('1');
    expect(await card.getAttribute('data-storage-bytes')).toBe('900');
    expect(await card.locator('tr[data-kind="video"]').getAttribute('data-bytes')).toBe('900');
    expect(await card.locator('tr[data-kind="sensors"]').count()).toBe(0);
    expect(watch.dialogs).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });
});
