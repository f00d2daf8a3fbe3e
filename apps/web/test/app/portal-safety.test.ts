import type { CreateEpisodeResponse } from '@robotrace/contracts';
import { describe, expect, it } from 'vitest';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { safeNext } from '../../src/portal/guard.js';
import { escapeHtml, html, safeHref, trustedHtml } from '../../src/portal/html.js';
import { useApp } from '../support/app.js';
import { portal, signIn } from '../support/portal-http.js';

describe('html templates escape every interpolation', () => {
  it('escapes the six characters that can leave a text or attribute context', () => {
    expect(escapeHtml(`<a href="x" title='y'>&\`</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;',
    );
    const name = '"><img src=x onerror=alert(1)>';
    expect(html`<td title="${name}">${name}</td>`.value).toBe(
      '<td title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</td>',
    );
  });

  it('keeps nested templates and trusted markup as they are, joins arrays, drops null, undefined and false', () => {
    const items = ['<b>', 'c&d'].map((t) => html`<li>${t}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.value).toBe(
      '<ul><li>&lt;b&gt;</li><li>c&amp;d</li></ul>0',
    );
    expect(html`${trustedHtml('<hr>')}`.value).toBe('<hr>');
  });
});

describe('safeHref renders only our own paths and http(s) URLs', () => {
  it('takes an absolute path of ours and an http(s) URL', () => {
    for (const ok of [
      '/portal/episodes',
      '/portal/traces/ab?x=1',
      'https://jaeger.example.com/trace/ab',
      'HTTP://tempo:3200/x',
    ])
      expect(safeHref(ok)).toBe(ok);
  });

  it('refuses protocol-relative paths, other schemes and relative links', () => {
    for (const bad of [
      '//evil.example.com',
      '/\\evil.example.com',
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'data:text/html,<script>',
      'https:///evil',
      'https:\\\\evil',
      ' https://example.com',
      'portal/episodes',
      '',
    ])
      expect(() => safeHref(bad), JSON.stringify(bad)).toThrow(/refusing/);
  });
});

describe('safeNext follows only portal paths after sign-in', () => {
  it('keeps /portal paths and falls back for anything that could leave the site', () => {
    expect(safeNext('/portal/episodes/abc?q=x')).toBe('/portal/episodes/abc?q=x');
    for (const bad of [
      null,
      '',
      '//evil.example.com',
      '/portal//evil.example.com',
      'https://evil.example.com',
      '/portalx',
      '/login',
      '/portal/a b',
      '/portal\\evil',
    ])
      expect(safeNext(bad), String(bad)).toBe('/portal/episodes');
  });
});

describe('portal form posts are same-origin only (CSRF), and user text stays text', () => {
  const app = useApp();
  const postKey = async (headers: Record<string, string>) => {
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const res = await fetch(`${app.current.baseUrl}/portal/api-keys`, {
      method: 'POST',
      headers: { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: 'name=from-a-test',
      redirect: 'manual',
    });
    await res.arrayBuffer();
    return res.status;
  };

  it('accepts this origin, or Sec-Fetch-Site: same-origin without an Origin', async () => {
    expect(await postKey({ origin: app.current.baseUrl })).toBe(201);
    expect(await postKey({ 'sec-fetch-site': 'same-origin' })).toBe(201);
  });

  it('refuses another port, a look-alike host, a same-site sibling and a missing or null Origin', async () => {
    const { port, hostname } = new URL(app.current.baseUrl);
    for (const headers of <Record<string, string>[]>[
      { origin: `http://${hostname}:${Number(port) + 1}` },
      { origin: `http://${hostname}.evil.example.com:${port}` },
      { origin: `http://${hostname}:${port}`, 'sec-fetch-site': 'same-site' },
      { origin: 'null' },
      { origin: 'not a url' },
      {},
    ])
      expect(await postKey(headers), JSON.stringify(headers)).toBe(403);
  });

  it('shows hostile episode text escaped on the episode and list pages', async () => {
    const hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>';
    const created = await app.current.client().post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      name: hostile,
      robot: hostile,
      metadata: { [hostile]: hostile },
    });
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    for (const path of [`/portal/episodes/${created.body.episode_id}`, '/portal/episodes']) {
      const page = await portal(app.current.baseUrl, user, path);
      expect(page.status, path).toBe(200);
      expect(page.html, path).not.toContain('<img src=x');
      expect(page.html, path).not.toContain('<script>alert(2)');
      expect(page.html, path).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });
});
