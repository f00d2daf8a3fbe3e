import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { deviceLogin } from '../../src/cli/commands/device-login.js';
import type { CliIo } from '../../src/cli/io.js';
import { cli } from '../support/cli.js';
import { BASE, fakeFetch, json, KEY } from '../support/fake-fetch.js';

/**
 * `robotrace login`'s browser sign-in against a scripted server: the statuses the official CLI accepts (pending,
 * slow down as a longer interval, approved once, denied, 410 expired/consumed), on a fake clock.
 */
const started = () =>
  json(200, {
    device_code: 'dev-secret',
    user_code: 'BCDF-GHJK',
    verification_uri: `${BASE}/cli/auth`,
    verification_uri_complete: `${BASE}/cli/auth?code=BCDF-GHJK`,
    interval: 2,
    expires_in: 600,
  });

function io(fetch: typeof globalThis.fetch): CliIo & { err: () => string } {
  let err = '';
  return {
    stdout: { write: () => true },
    stderr: { write: (t: string) => (err += t) },
    stdin: Readable.from([]),
    env: {},
    fetch,
    err: () => err,
  };
}

function fakeClock() {
  let t = 0;
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
    t += ms;
  };
  return { slept, clock: { now: () => t, sleep } };
}

describe('device login', () => {
  it('polls at the interval, slows down when told, and returns the key once approved', async () => {
    const answers = [
      json(200, { status: 'pending' }),
      json(200, { status: 'pending', interval: 5 }),
      json(200, {
        status: 'approved',
        api_key: KEY,
        base_url: BASE,
        user_email: 'ada@example.com',
        client_id: 'k1',
      }),
    ];
    const fetch = fakeFetch((_r, i) => (i === 0 ? started() : (answers[i - 1] ?? json(500, {}))));
    const { slept, clock } = fakeClock();
    const out = io(fetch);
    const result = await deviceLogin(out, BASE, { openBrowser: false, clock });
    expect(result).toEqual({ apiKey: KEY, baseUrl: BASE, userEmail: 'ada@example.com' });
    expect(slept).toEqual([2000, 5000]);
    expect(fetch.requests.map((r) => r.url)).toEqual([
      `${BASE}/api/cli/auth/start`,
      `${BASE}/api/cli/auth/poll`,
      `${BASE}/api/cli/auth/poll`,
      `${BASE}/api/cli/auth/poll`,
    ]);
    expect(fetch.requests[1]?.json()).toEqual({ device_code: 'dev-secret' });
    expect(out.err()).toContain(`${BASE}/cli/auth?code=BCDF-GHJK`);
    expect(out.err()).toContain('BCDF-GHJK');
  });

  it.each([
    [json(200, { status: 'denied' }), /denied in the browser/],
    [json(410, { status: 'expired', error: 'x' }), /expired/],
    [json(410, { status: 'consumed', error: 'x' }), /already used/],
    [json(429, { error: 'slow' }), /unexpected answer .*HTTP 429/],
  ])('a terminal answer ends the wait (%#)', async (answer, message) => {
    const fetch = fakeFetch((_r, i) => (i === 0 ? started() : answer.clone()));
    await expect(
      deviceLogin(io(fetch), BASE, { openBrowser: false, clock: fakeClock().clock }),
    ).rejects.toThrow(message);
  });

  it('a server without the device flow says how to log in with a key instead', async () => {
    const fetch = fakeFetch(() => json(404, { error: 'No route for POST /api/cli/auth/start' }));
    await expect(
      deviceLogin(io(fetch), BASE, { openBrowser: false, clock: fakeClock().clock }),
    ).rejects.toThrow(/did not start a browser sign-in \(HTTP 404: No route.*--api-key-stdin/);
  });

  it('`robotrace login --device --no-browser` stores the approved key with the user', async () => {
    const home = mkdtempSync(join(tmpdir(), 'robotrace-device-'));
    const fetch = fakeFetch((r, i) => {
      if (i === 0) return started();
      if (r.url.endsWith('/api/cli/auth/poll'))
        return json(200, { status: 'approved', api_key: KEY, base_url: BASE, user_email: 'ada@example.com' });
      return json(200, { data: [], next_cursor: null }); // the key check (list one episode)
    });
    const run = await cli(['login', '--device', '--no-browser', '--base-url', BASE], {
      env: { HOME: home },
      fetch,
    });
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toContain(`Logged in to ${BASE} as ada@example.com with key rt_unit_…`);
    const stored = readFileSync(join(home, '.robotrace', 'credentials'), 'utf8');
    expect(stored).toContain(KEY);
    expect(stored).toContain('ada@example.com');
    expect(fetch.requests.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
  });
});
