import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../../../../test/support/api.js';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { ManualClock, useApp } from '../support/app.js';
import { portal, signIn } from '../support/portal-http.js';

/**
 * CLI device login (OFFICIAL_PILLARS.md §3) on the app in process, driven as the official CLI and a browser
 * would: start → approval page (signed in) → poll → a working key → revoke → 401. The clock is manual, so
 * expiry and "slow down" are exact without waiting.
 */
const clock = new ManualClock();
const app = useApp({ clock });
afterEach(() => clock.advance(60_000));

const anon = () => api(app.current.baseUrl);
type Start = { device_code: string; user_code: string; verification_uri_complete: string; interval: number };

async function start(hostname = 'lab-box-7'): Promise<Start> {
  const r = await anon().post<Start>('/api/cli/auth/start', {
    user_agent: 'robotrace-python/0.3.0 cpython/3.11 linux/x86_64',
    hostname,
  });
  expect(r.status).toBe(200);
  return r.body;
}
const poll = (device_code: string) =>
  anon().post<Record<string, unknown>>('/api/cli/auth/poll', { device_code });

describe('CLI device login', () => {
  it('start → approve in the portal → the poll hands out a key once → revoke → 401', async () => {
    const s = await start('<img src=x onerror=alert(1)>');
    expect(s.user_code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(s.verification_uri_complete).toBe(`${app.current.baseUrl}/cli/auth?code=${s.user_code}`);
    expect(s.interval).toBe(2);
    expect((await poll(s.device_code)).body).toEqual({ status: 'pending' });

    // The printed URL leads into the portal; signed out, sign-in comes first and returns here.
    const printed = await portal(app.current.baseUrl, null, `/cli/auth?code=${s.user_code}`);
    expect(printed.status).toBe(303);
    const target = printed.headers.get('location') ?? '';
    expect(target).toBe(`/portal/cli/auth?code=${s.user_code}`);
    const signedOut = await portal(app.current.baseUrl, null, target);
    expect(signedOut.headers.get('location')).toBe(`/login?next=${encodeURIComponent(target)}`);

    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const page = await portal(app.current.baseUrl, user, target);
    expect(page.status).toBe(200);
    expect(page.html).toContain(s.user_code);
    expect(page.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page.html).not.toContain('<img src=x');
    expect(page.html).toContain('robotrace-python/0.3.0');
    expect(page.html).toContain('127.0.0.1');

    // A cross-site post is refused and decides nothing.
    const forged = await fetch(`${app.current.baseUrl}/portal/cli/auth`, {
      method: 'POST',
      headers: {
        cookie: user.cookie,
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ code: s.user_code, decision: 'approve' }).toString(),
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
    clock.advance(3000);
    expect((await poll(s.device_code)).body).toEqual({ status: 'pending' });

    const approved = await portal(app.current.baseUrl, user, '/portal/cli/auth', {
      code: s.user_code,
      decision: 'approve',
    });
    expect(approved.status).toBe(200);
    expect(approved.html).toContain('Device authorized');

    clock.advance(3000);
    const got = await poll(s.device_code);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      status: 'approved',
      user_email: TEST_EMAIL,
      base_url: app.current.baseUrl,
    });
    const key = String(got.body.api_key);
    expect(key).toMatch(/^rt_/);

    // Once: the next poll says consumed (410); the key works, with either header.
    clock.advance(3000);
    const again = await poll(s.device_code);
    expect(again.status).toBe(410);
    expect(again.body).toMatchObject({ status: 'consumed' });
    expect((await api(app.current.baseUrl, key).get('/api/episodes')).status).toBe(200);
    const viaHeader = await fetch(`${app.current.baseUrl}/api/episodes`, {
      headers: { 'x-robotrace-key': key },
    });
    expect(viaHeader.status).toBe(200);

    // Listed under API keys, named after the device (escaped).
    const keys = await portal(app.current.baseUrl, user, '/portal/api-keys');
    expect(keys.html).toContain('CLI · &lt;img src=x onerror=alert(1)&gt;');

    const revoked = await api(app.current.baseUrl, key).post('/api/cli/auth/revoke');
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', key_id: got.body.client_id });
    expect((await api(app.current.baseUrl, key).get('/api/episodes')).status).toBe(401);
    expect((await api(app.current.baseUrl, key).post('/api/cli/auth/revoke')).status).toBe(401);
  });

  it('polling faster than the interval is a 200 pending with a longer interval, never a 429', async () => {
    const s = await start();
    expect((await poll(s.device_code)).body).toEqual({ status: 'pending' });
    const fast = await poll(s.device_code);
    expect(fast.status).toBe(200);
    expect(fast.body).toEqual({ status: 'pending', interval: 5 });
  });

  it('deny → denied; unknown code → 410 expired; a code past 10 minutes is expired on both sides', async () => {
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const denied = await start();
    const page = await portal(app.current.baseUrl, user, '/portal/cli/auth', {
      code: denied.user_code,
      decision: 'deny',
    });
    expect(page.html).toContain('Login denied');
    clock.advance(3000);
    expect((await poll(denied.device_code)).body).toEqual({ status: 'denied' });

    // Signed out, an approval is only a redirect to sign-in: nothing is decided.
    const signedOut = await start();
    const anonymous = await portal(app.current.baseUrl, null, '/portal/cli/auth', {
      code: signedOut.user_code,
      decision: 'approve',
    });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toMatch(/^\/login/);
    clock.advance(3000);
    expect((await poll(signedOut.device_code)).body).toEqual({ status: 'pending' });

    const unknown = await poll('not-a-device-code');
    expect(unknown.status).toBe(410);
    expect(unknown.body).toMatchObject({ status: 'expired' });

    const late = await start();
    clock.advance(10 * 60 * 1000 + 1);
    const expired = await poll(late.device_code);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ status: 'expired' });
    const view = await portal(app.current.baseUrl, user, `/portal/cli/auth?code=${late.user_code}`);
    expect(view.status).toBe(410);
    expect(view.html).toContain('Code expired');
    const tooLate = await portal(app.current.baseUrl, user, '/portal/cli/auth', {
      code: late.user_code,
      decision: 'approve',
    });
    expect(tooLate.html).toContain('Code expired');
    expect((await poll(late.device_code)).status).toBe(410);

    const none = await portal(app.current.baseUrl, user, '/portal/cli/auth?code=BBBB-CCCC');
    expect(none.status).toBe(404);
    expect(none.html).toContain('No such code');
  });

  it('a missing and a wrong key get the same 401, on either header', async () => {
    const base = app.current.baseUrl;
    const answers = await Promise.all([
      fetch(`${base}/api/episodes`),
      fetch(`${base}/api/episodes`, { headers: { 'x-robotrace-key': 'rt_wrongwrongwrongwrongwrong' } }),
      fetch(`${base}/api/episodes`, { headers: { authorization: 'Bearer rt_wrongwrongwrongwrongwrong' } }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401]);
    const codes = await Promise.all(answers.map(async (r) => ((await r.json()) as { code: string }).code));
    expect(new Set(codes)).toEqual(new Set(['unauthorized']));
  });
});

describe('CLI device login start is bounded per client address', () => {
  it('past 60 starts a minute from one address: 429 with Retry-After, then allowed again a minute later', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 61; i++)
      answers.push((await anon().post('/api/cli/auth/start', { hostname: 'flood' })).status);
    expect(answers.slice(0, 60).every((s) => s === 200)).toBe(true);
    const refused = await fetch(`${app.current.baseUrl}/api/cli/auth/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    clock.advance(60_000);
    expect((await anon().post('/api/cli/auth/start', {})).status).toBe(200);
  });
});
