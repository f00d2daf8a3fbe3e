import type { Retention } from '@robotrace/contracts';
import { describe, expect, it } from 'vitest';
import { seedEpisode } from '../../../../test/support/lifecycle.js';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { useApp } from '../support/app.js';
import { portal, signIn } from '../support/portal-http.js';

/**
 * The portal's data lifecycle forms (issue 20) over plain HTTP: who may post them, what a bad post changes
 * (nothing), and that the settings' storage card counts only the viewer's project. The browser flows are in
 * e2e/lifecycle.test.ts.
 */
const OTHER_KEY = 'rt_lifecycle_other_0123456789abcdef';

describe('portal delete and retention forms', () => {
  const app = useApp();
  const episodeStatus = async (id: string, key?: string) =>
    (await app.current.client(key).get(`/api/episodes/${id}`)).status;
  const retention = async () => (await app.current.client().get<Retention>('/api/project/retention')).body;

  it('a signed-out delete post is sent to sign in and deletes nothing', async () => {
    const { id } = await seedEpisode(app.current.baseUrl, app.current.apiKey, { name: 'signed out' });
    const res = await portal(app.current.baseUrl, null, '/portal/episodes/delete', { ids: id });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
    expect(await episodeStatus(id)).toBe(200);
  });

  it('a selection of more than 200 episodes is refused whole: a 400 page and nothing deleted', async () => {
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const { id } = await seedEpisode(app.current.baseUrl, app.current.apiKey, { name: 'one of many' });
    const ids = [id, ...Array.from({ length: 200 }, () => crypto.randomUUID())];
    const body = new URLSearchParams(ids.map((x) => ['ids', x]));
    const res = await fetch(`${app.current.baseUrl}/portal/episodes/delete`, {
      method: 'POST',
      headers: {
        cookie: user.cookie,
        origin: app.current.baseUrl,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: body.toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Select at most 200 episodes');
    expect(await episodeStatus(id)).toBe(200);
  });

  it('the retention form saves days, "off" or empty keeps forever, and an out-of-range value is a 400 naming the field', async () => {
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const saved = await portal(app.current.baseUrl, user, '/portal/settings/retention', {
      keep_days: '90',
      keep_failed_days: 'off',
    });
    expect(saved.status).toBe(303);
    expect(await retention()).toMatchObject({ keep_days: 90, keep_failed_days: null });

    for (const [field, value, label] of [
      ['keep_days', '0', 'Keep episodes for (days)'],
      ['keep_days', 'ninety', 'Keep episodes for (days)'],
      ['keep_failed_days', '3651', 'Keep failed episodes for (days)'],
    ] as const) {
      const refused = await portal(app.current.baseUrl, user, '/portal/settings/retention', {
        keep_days: '90',
        keep_failed_days: '',
        [field]: value,
      });
      expect(refused.status, `${field}=${value}`).toBe(400);
      expect(refused.html).toContain(`${label}: enter a whole number of days from 1 to 3650`);
      // The refused value is shown back in its field, marked invalid.
      expect(refused.html).toMatch(
        new RegExp(`name="${field}"[^>]*value="${value}"[^>]*aria-invalid="true"`),
      );
      expect(await retention()).toMatchObject({ keep_days: 90, keep_failed_days: null });
    }

    const off = await portal(app.current.baseUrl, user, '/portal/settings/retention', {
      keep_days: '',
      keep_failed_days: '',
    });
    expect(off.status).toBe(303);
    expect(await retention()).toMatchObject({ keep_days: null, keep_failed_days: null });
  });

  it("the settings' storage card counts only the viewer's project", async () => {
    await app.current.addProject('elsewhere', OTHER_KEY);
    const other = await seedEpisode(app.current.baseUrl, OTHER_KEY, { name: 'not counted', bytes: 9999 });
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const page = await portal(app.current.baseUrl, user, '/portal/settings');
    expect(page.status).toBe(200);
    const usage = (
      await app.current.client().get<{ bytes: number; episodes: number }>('/api/project/storage')
    ).body;
    expect(page.html).toContain(`data-storage-bytes="${usage.bytes}"`);
    expect(page.html).toContain(`data-storage-episodes="${usage.episodes}"`);
    expect(page.html).not.toContain('not counted');
    expect(page.html).not.toContain(other.id);
    // And its episode cannot be deleted from this project's portal.
    const post = await portal(app.current.baseUrl, user, '/portal/episodes/delete', { ids: other.id });
    expect(post.status).toBe(404);
    expect(await episodeStatus(other.id, OTHER_KEY)).toBe(200);
  });
});
