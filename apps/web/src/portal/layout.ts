import { randomBytes } from 'node:crypto';
import type { HttpContext } from '../http/context.js';
import type { Assets } from './assets.js';
import { type Html, html } from './html.js';

export type NavItem = 'episodes' | 'evals' | 'verify' | 'api-keys' | 'settings' | null;

export interface PageOptions {
  title: string;
  body: Html;
  status?: number;
  /** Signed-in chrome (nav, project, sign out); omitted on the sign-in pages. */
  chrome?: { user: { email: string }; project: { name: string } | null; active: NavItem };
  /** Extra headers (e.g. Set-Cookie). */
  headers?: Record<string, string | string[]>;
}

/** The CSP of every portal page: scripts only with this response's nonce; no plugins, framing or <base>. */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}' 'strict-dynamic'`,
    "style-src 'self'",
    "img-src 'self' data:",
    // Artifacts redirect to signed URLs that may live on an object store's origin.
    "media-src 'self' https: http:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

function nav(active: NavItem): Html {
  const items: [NavItem, string, string][] = [
    ['episodes', '/portal/episodes', 'Episodes'],
    ['evals', '/portal/evals', 'Evals'],
    ['verify', '/portal/verify', 'Verify'],
    ['api-keys', '/portal/api-keys', 'API keys'],
    ['settings', '/portal/settings', 'Settings'],
  ];
  return html`<nav class="nav" aria-label="Main">${items.map(
    ([id, href, label]) =>
      html`<a href="${href}"${id === active ? html` aria-current="page"` : ''}>${label}</a>`,
  )}</nav>`;
}

function chrome(o: NonNullable<PageOptions['chrome']>): Html {
  return html`<header class="topbar">
  <a class="brand" href="/portal/episodes" aria-label="RoboTrace home"><span class="brand-mark" aria-hidden="true"></span>RoboTrace</a>
  ${nav(o.active)}
  <div class="topbar-end">
    ${o.project ? html`<span class="project" title="Project">${o.project.name}</span>` : ''}
    <button type="button" class="icon-button" data-theme-toggle aria-label="Switch colour theme" title="Theme: follows the system"><span aria-hidden="true">◐</span></button>
    <form method="post" action="/logout" class="inline">
      <button type="submit" class="link-button" aria-label="Sign out ${o.user.email}">Sign out</button>
    </form>
  </div>
</header>`;
}

export function sendPage(ctx: HttpContext, assets: Assets, o: PageOptions): void {
  const nonce = randomBytes(16).toString('base64');
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${o.title} · RoboTrace</title>
<link rel="icon" href="${assets.url('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${assets.url('portal.css')}">
<script src="${assets.url('portal.js')}" nonce="${nonce}"></script>
<script src="${assets.url('span-lane.js')}" data-css="${assets.url('span-lane.css')}" nonce="${nonce}" defer></script>
<script src="${assets.url('replay-timeline.js')}" nonce="${nonce}" defer></script>
<script src="${assets.url('replay.js')}" nonce="${nonce}" defer></script>
</head>
<body${o.chrome ? '' : html` class="bare"`}>
<a class="skip-link" href="#main">Skip to content</a>
${o.chrome ? chrome(o.chrome) : ''}
<main id="main" tabindex="-1">
${o.body}
</main>
<div class="toast" id="toast" role="status" aria-live="polite"></div>
</body>
</html>
`.value;
  ctx.res.writeHead(o.status ?? 200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(page),
    'cache-control': 'no-store',
    'content-security-policy': contentSecurityPolicy(nonce),
    'cross-origin-opener-policy': 'same-origin',
    ...o.headers,
  });
  ctx.res.end(page);
}

/** A full-page message (404, errors, closed sign-up), with or without the signed-in chrome. */
export function messagePage(
  ctx: HttpContext,
  assets: Assets,
  o: { status: number; title: string; message: string; chrome?: PageOptions['chrome']; action?: Html },
): void {
  sendPage(ctx, assets, {
    status: o.status,
    title: o.title,
    ...(o.chrome ? { chrome: o.chrome } : {}),
    body: html`<section class="message-page" aria-labelledby="message-title">
  <p class="message-code">${o.status}</p>
  <h1 id="message-title">${o.title}</h1>
  <p>${o.message}</p>
  <p>${o.action ?? html`<a class="button" href="/portal/episodes">Back to episodes</a>`}</p>
  <p class="muted small">Request ${ctx.requestId}</p>
</section>`,
  });
}
