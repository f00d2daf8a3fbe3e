import { createHash } from 'node:crypto';
import type { CreateEpisodeResponse } from '@robotrace/contracts';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../../test/support/api.js';
import { TEST_API_KEY, TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { startApp, type TestApp } from '../support/app.js';
import { createKeyInPortal, type PageResponse, portal, signIn } from '../support/portal-http.js';

/**
 * Security properties checked over HTTP against the app: session cookie attributes (HttpOnly,
 * SameSite=Lax, Secure behind an https public URL), portal headers (CSP with a per-response nonce,
 * frame-ancestors 'none', nosniff, Referrer-Policy), CSRF refusals, uploads never served as active content,
 * and API keys and passwords stored only as hashes. (The refusal to start with DATABASE_URL but without
 * ROBOTRACE_SECRET is e2e/readme-start.test.ts.)
 */

function sessionCookie(setCookie: string[]): string {
  const line = setCookie.find((c) => /^(__Secure-)?robotrace\.session_token=/.test(c));
  if (!line) throw new Error(`no session cookie in ${JSON.stringify(setCookie)}`);
  return line;
}

const attributes = (line: string) =>
  line
    .split(';')
    .slice(1)
    .map((a) => a.trim().toLowerCase());

function expectPortalHeaders(page: PageResponse, what: string): void {
  const csp = page.headers.get('content-security-policy') ?? '';
  const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
  expect(nonce, `${what}: CSP ${csp}`).toBeTruthy();
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("object-src 'none'");
  expect(csp, what).toContain("base-uri 'none'");
  expect(csp, what).not.toContain("'unsafe-inline'");
  expect(csp, what).not.toContain("'unsafe-eval'");
  // Every script carries this response's nonce; no inline handlers.
  const scripts = [...page.html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  expect(scripts.length, what).toBeGreaterThan(0);
  for (const tag of scripts) expect(tag, what).toContain(`nonce="${nonce}"`);
  expect(page.html, what).not.toMatch(/\son[a-z]+\s*=\s*["']/i);
  expect(page.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(page.headers.get('referrer-policy'), what).toMatch(
    /^(strict-origin-when-cross-origin|no-referrer|same-origin)$/,
  );
  expect(page.headers.get('x-frame-options'), what).toBe('DENY');
}

describe('security over http (default public URL)', () => {
  let server: TestApp;
  let portalKey: string;
  let episodeId: string;

  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('session cookies are HttpOnly and SameSite=Lax (not Secure over plain http)', async () => {
    const viaApi = sessionCookie((await signIn(server.baseUrl, TEST_EMAIL, TEST_PASSWORD)).setCookie);
    // The portal's own sign-in form forwards Better Auth's cookies unchanged.
    const form = await fetch(`${server.baseUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.baseUrl },
      body: new URLSearchParams({ email: TEST_EMAIL, password: TEST_PASSWORD }).toString(),
      redirect: 'manual',
    });
    expect(form.status).toBe(303);
    const viaForm = sessionCookie(form.headers.getSetCookie());
    for (const line of [viaApi, viaForm]) {
      expect(line).toMatch(/^robotrace\.session_token=/);
      const attrs = attributes(line);
      expect(attrs).toContain('httponly');
      expect(attrs).toContain('samesite=lax');
      expect(attrs).toContain('path=/');
      expect(attrs).not.toContain('secure');
    }
  });

  it('portal pages carry a CSP with a fresh nonce per response, frame-ancestors none, nosniff, Referrer-Policy', async () => {
    const user = await signIn(server.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const client = api(server.baseUrl, TEST_API_KEY);
    const created = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      name: '<script>alert(1)</script>',
      request_uploads: ['video'],
      otel: { traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` },
    });
    episodeId = created.body.episode_id;
    const pages: [string, PageResponse][] = [
      ['login (signed out)', await portal(server.baseUrl, null, '/login')],
      ['episodes', await portal(server.baseUrl, user, '/portal/episodes')],
      ['episode', await portal(server.baseUrl, user, `/portal/episodes/${episodeId}`)],
      ['trace', await portal(server.baseUrl, user, `/portal/traces/${'ab'.repeat(16)}`)],
      ['api keys', await portal(server.baseUrl, user, '/portal/api-keys')],
      ['settings', await portal(server.baseUrl, user, '/portal/settings')],
      ['404', await portal(server.baseUrl, user, '/portal/nothing-here')],
    ];
    for (const [what, page] of pages) {
      expect([200, 404], what).toContain(page.status);
      expectPortalHeaders(page, what);
    }
    // The episode name is text, not markup.
    const episodePage = pages[2]?.[1].html ?? '';
    expect(episodePage).not.toContain('<script>alert(1)</script>');
    expect(episodePage).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const nonces = pages.map(
      ([, p]) => /'nonce-([^']+)'/.exec(p.headers.get('content-security-policy') ?? '')?.[1],
    );
    expect(new Set(nonces).size).toBe(nonces.length);
    // API answers carry the base headers too.
    const apiRes = await fetch(`${server.baseUrl}/api/health`);
    expect(apiRes.headers.get('x-content-type-options')).toBe('nosniff');
    expect(apiRes.headers.get('referrer-policy')).toBeTruthy();
  });

  it('refuses portal mutations from another site, or without an origin (CSRF)', async () => {
    const user = await signIn(server.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const post = (headers: Record<string, string>) =>
      fetch(`${server.baseUrl}/portal/api-keys`, {
        method: 'POST',
        headers: { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: 'name=forged',
        redirect: 'manual',
      });
    expect((await post({ origin: 'https://evil.example.com' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({})).status).toBe(403);
    expect((await post({ origin: 'null' })).status).toBe(403);
    const keys = await portal(server.baseUrl, user, '/portal/api-keys');
    expect(keys.html).not.toContain('forged');
    // Better Auth's own routes check the origin too.
    const foreignSignIn = await fetch(`${server.baseUrl}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: 'https://evil.example.com',
        cookie: user.cookie,
      },
      body: JSON.stringify({ email: TEST_EMAIL, password: TEST_PASSWORD }),
    });
    expect(foreignSignIn.status).toBe(403);
    const logout = await fetch(`${server.baseUrl}/logout`, {
      method: 'POST',
      headers: { cookie: user.cookie, origin: 'https://evil.example.com' },
      redirect: 'manual',
    });
    expect(logout.status).toBe(403);
    expect((await portal(server.baseUrl, user, '/portal/episodes')).status).toBe(200); // still signed in
    portalKey = (await createKeyInPortal(server.baseUrl, user, 'security-test')).key;
    expect(portalKey).toMatch(/^rt_[A-Za-z0-9]{10}_[A-Za-z0-9]{38}$/);
  });

  it('serves an uploaded artifact with its slot type, nosniff and inline disposition, never as HTML', async () => {
    const client = api(server.baseUrl, TEST_API_KEY);
    const created = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['video'],
    });
    const html = Buffer.from('<html><script>alert(document.cookie)</script></html>');
    const url = created.body.upload_urls[0]?.url ?? '';
    expect(
      (await fetch(url, { method: 'PUT', body: html, headers: { 'content-type': 'text/html' } })).status,
    ).toBe(415);
    expect(
      (await fetch(url, { method: 'PUT', body: html, headers: { 'content-type': 'video/mp4' } })).status,
    ).toBe(200);
    const redirect = await client.get(`/api/episodes/${created.body.episode_id}/artifact/video`);
    const res = await fetch(new URL(redirect.headers.get('location') ?? '', server.baseUrl));
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe('inline');
  });

  it('stores API keys and passwords only as hashes: the plaintext is nowhere in the database', async () => {
    const client = api(server.baseUrl, portalKey);
    expect((await client.get('/api/episodes?limit=1')).status).toBe(200);
    const { db } = server.services.dbh;
    const rowsOf = async <T>(query: ReturnType<typeof sql>) =>
      ((await db.execute(query)) as unknown as { rows: T[] }).rows;
    {
      const tables = (
        await rowsOf<{ table_name: string }>(
          sql`select table_name from information_schema.tables where table_schema = 'public'`,
        )
      ).map((r) => r.table_name);
      expect(tables).toContain('api_key');
      let dump = '';
      for (const table of tables) {
        const rows = await rowsOf<{ row: string }>(
          sql`select row_to_json(t)::text as row from ${sql.identifier(table)} t`,
        );
        dump += rows.map((r) => r.row).join('\n');
      }
      for (const secret of [TEST_API_KEY, portalKey, TEST_PASSWORD]) expect(dump).not.toContain(secret);
      for (const key of [TEST_API_KEY, portalKey])
        expect(dump).toContain(createHash('sha256').update(key).digest('hex'));
    }
  });
});

describe('security behind an https public URL', () => {
  let server: TestApp;
  const PUBLIC = 'https://robotrace.example.com';

  beforeAll(async () => {
    server = await startApp({ env: { ROBOTRACE_PUBLIC_URL: PUBLIC } });
  });
  afterAll(() => server?.stop());

  it('marks session cookies Secure (with the __Secure- prefix), HttpOnly and SameSite=Lax', async () => {
    const user = await signIn(server.baseUrl, TEST_EMAIL, TEST_PASSWORD, PUBLIC);
    const line = sessionCookie(user.setCookie);
    expect(line).toMatch(/^__Secure-robotrace\.session_token=/);
    const attrs = attributes(line);
    expect(attrs).toContain('secure');
    expect(attrs).toContain('httponly');
    expect(attrs).toContain('samesite=lax');
    for (const other of user.setCookie) expect(attributes(other)).toContain('secure');
  });
});
