import { type DeviceLoginView, decideDeviceLogin, findDeviceLogin } from '@robotrace/core';
import type { HttpContext } from '../http/context.js';
import type { Router } from '../http/router.js';
import { time } from './components.js';
import {
  checkSameOrigin,
  chromeOf,
  type PortalKit,
  portalPage,
  readForm,
  requireViewer,
  type Viewer,
} from './guard.js';
import { type Html, html } from './html.js';
import { sendPage } from './layout.js';

/**
 * The approval page of `robotrace login` (OFFICIAL_PILLARS.md §3). The CLI prints /cli/auth?code=…; that answers
 * with a redirect into /portal/cli/auth, so the portal's sign-in (which only returns to /portal paths) brings the
 * user back here. Authorize and Deny are same-origin form posts by a signed-in user.
 */
const STATE_TEXT: Record<Exclude<DeviceLoginView['state'], 'pending'>, [number, string, string]> = {
  approved: [
    200,
    'Device authorized',
    'Return to your terminal: the CLI picks up its new API key on its next poll.',
  ],
  consumed: [
    409,
    'Already used',
    'This login was already completed. Run `robotrace login` again for a new code.',
  ],
  denied: [
    200,
    'Login denied',
    'The CLI was refused and got no key. Run `robotrace login` again if that was a mistake.',
  ],
  expired: [
    410,
    'Code expired',
    'Login codes expire after 10 minutes. Run `robotrace login` again for a new code.',
  ],
};

function codeForm(error?: string): Html {
  return html`<form method="get" action="/portal/cli/auth" class="inline-form">
  <label class="field"><span>Code from your terminal</span><input name="code" required maxlength="20" placeholder="XKDF-PQ4N" autocomplete="off" autocapitalize="characters"></label>
  <button type="submit" class="button primary">Continue</button>
</form>${error ? html`<p class="form-error" role="alert">${error}</p>` : ''}`;
}

function page(ctx: HttpContext, kit: PortalKit, viewer: Viewer, status: number, body: Html): void {
  sendPage(ctx, kit.assets, {
    title: 'Authorize a device',
    status,
    chrome: chromeOf(viewer, null),
    body: html`<section class="card cli-auth" aria-labelledby="cli-auth-title">${body}</section>`,
  });
}

function stateBody(state: Exclude<DeviceLoginView['state'], 'pending'>): [number, Html] {
  const [status, title, text] = STATE_TEXT[state];
  return [status, html`<h1 id="cli-auth-title" data-cli-auth-state="${state}">${title}</h1><p>${text}</p>`];
}

function approvalBody(v: DeviceLoginView, viewer: Viewer): Html {
  return html`<h1 id="cli-auth-title" data-cli-auth-state="pending">Authorize the RoboTrace CLI?</h1>
<p>A terminal asks to sign in as <strong>${viewer.user.email}</strong> and get a new API key for <strong>${viewer.project.name}</strong>. Authorize only if you started <code>robotrace login</code> yourself and the code matches your terminal.</p>
<dl class="facts">
  <div><dt>code</dt><dd><code data-user-code>${v.userCode}</code></dd></div>
  <div><dt>hostname</dt><dd>${v.hostname ?? html`<span class="muted">not sent</span>`}</dd></div>
  <div><dt>IP address</dt><dd>${v.ip ?? html`<span class="muted">unknown</span>`}</dd></div>
  <div><dt>user agent</dt><dd>${v.userAgent ?? html`<span class="muted">not sent</span>`}</dd></div>
  <div><dt>requested</dt><dd>${time(v.createdAt.toISOString(), { relative: true })}</dd></div>
  <div><dt>expires</dt><dd>${time(v.expiresAt.toISOString(), { relative: true })}</dd></div>
</dl>
<div class="inline-form">
  <form method="post" action="/portal/cli/auth"><input type="hidden" name="code" value="${v.userCode}"><input type="hidden" name="decision" value="approve"><button type="submit" class="button primary">Authorize</button></form>
  <form method="post" action="/portal/cli/auth"><input type="hidden" name="code" value="${v.userCode}"><input type="hidden" name="decision" value="deny"><button type="submit" class="button danger">Deny</button></form>
</div>`;
}

export function registerCliAuthPage(router: Router, kit: PortalKit): void {
  // The URL the official CLI prints; the portal path keeps sign-in's "come back after" working.
  router.on('GET', '/cli/auth', (ctx) => {
    const code = ctx.url.searchParams.get('code') ?? '';
    const location = `/portal/cli/auth${code ? `?code=${encodeURIComponent(code.slice(0, 20))}` : ''}`;
    ctx.res.writeHead(303, { location, 'cache-control': 'no-store', 'content-length': 0 });
    ctx.res.end();
  });

  router.on(
    'GET',
    '/portal/cli/auth',
    portalPage(kit, async (ctx) => {
      const viewer = await requireViewer(ctx, kit.s);
      const raw = ctx.url.searchParams.get('code');
      if (!raw)
        return page(
          ctx,
          kit,
          viewer,
          200,
          html`<h1 id="cli-auth-title">Authorize a device</h1>${codeForm()}`,
        );
      const login = await findDeviceLogin(kit.s.core, raw);
      if (!login)
        return page(
          ctx,
          kit,
          viewer,
          404,
          html`<h1 id="cli-auth-title" data-cli-auth-state="unknown">No such code</h1>${codeForm('No login waits for that code. Check it against your terminal.')}`,
        );
      if (login.state === 'pending') return page(ctx, kit, viewer, 200, approvalBody(login, viewer));
      const [status, body] = stateBody(login.state);
      page(ctx, kit, viewer, status, body);
    }),
  );

  router.on(
    'POST',
    '/portal/cli/auth',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, kit.s);
      const viewer = await requireViewer(ctx, kit.s);
      const form = await readForm(ctx);
      const decision = form.get('decision') === 'approve' ? 'approve' : 'deny';
      const state = await decideDeviceLogin(
        kit.s.core,
        viewer.scope,
        { userId: viewer.user.id, email: viewer.user.email },
        form.get('code') ?? '',
        decision,
      );
      kit.s.log.info('cli login decided in the portal', { decision, state, user: viewer.user.email });
      if (state === 'pending') throw new Error('a decided login is still pending');
      const [status, body] = stateBody(state);
      page(ctx, kit, viewer, status, body);
    }),
  );
}
