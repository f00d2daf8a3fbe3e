import { type ApiKeySummary, createApiKey, listApiKeys, revokeApiKey } from '@robotrace/core';
import type { HttpContext } from '../http/context.js';
import type { Router } from '../http/router.js';
import { copyButton, time } from './components.js';
import {
  checkSameOrigin,
  chromeOf,
  type PortalKit,
  portalPage,
  Redirect,
  readForm,
  requireViewer,
  type Viewer,
} from './guard.js';
import { type Html, html } from './html.js';
import { sendPage } from './layout.js';

const NAME_MAX = 100;

function newKeyBox(key: string, name: string): Html {
  const line = `ROBOTRACE_API_KEY=${key}`;
  return html`<section class="card new-key" aria-labelledby="new-key-title">
  <h2 id="new-key-title">Key “${name}” created</h2>
  <p><strong>Copy it now — it is shown only once.</strong> RoboTrace stores only its hash.</p>
  <div class="snippet"><pre><code data-new-key>${key}</code></pre>${copyButton(key, 'API key')}</div>
  <p class="muted small">For your shell or <code>.env</code>:</p>
  <div class="snippet"><pre><code>${line}</code></pre>${copyButton(line, 'ROBOTRACE_API_KEY line')}</div>
</section>`;
}

function keyRow(k: ApiKeySummary): Html {
  const revoked = k.revokedAt !== null;
  return html`<tr${revoked ? html` class="revoked"` : ''}>
  <td>${k.name}</td>
  <td><code>${k.prefix}</code></td>
  <td>${time(k.createdAt.toISOString(), { relative: true })}</td>
  <td>${k.lastUsedAt ? time(k.lastUsedAt.toISOString(), { relative: true }) : html`<span class="muted">never</span>`}</td>
  <td>${
    revoked
      ? html`<span class="badge badge-failed">Revoked</span>`
      : html`<details class="confirm">
      <summary class="button small danger-ghost" aria-label="Revoke ${k.name}">Revoke</summary>
      <form method="post" action="/portal/api-keys/${k.id}/revoke" class="confirm-box">
        <p class="small">Clients using <code>${k.prefix}</code> get 401 on their next request.</p>
        <button type="submit" class="button small danger" aria-label="Confirm revoking ${k.name}">Revoke now</button>
      </form>
    </details>`
  }</td>
</tr>`;
}

async function render(
  ctx: HttpContext,
  kit: PortalKit,
  viewer: Viewer,
  extra: { created?: { key: string; name: string }; error?: string; status?: number } = {},
): Promise<void> {
  const keys = await listApiKeys(kit.s.core, viewer.scope);
  sendPage(ctx, kit.assets, {
    title: 'API keys',
    status: extra.status ?? 200,
    chrome: chromeOf(viewer, 'api-keys'),
    body: html`<header class="page-head"><div><h1>API keys</h1><p class="muted">Keys let the SDKs and the CLI log episodes into <strong>${viewer.project.name}</strong>.</p></div></header>
${extra.created ? newKeyBox(extra.created.key, extra.created.name) : ''}
<section class="card" aria-labelledby="create-title">
  <h2 id="create-title">Create a key</h2>
  <form method="post" action="/portal/api-keys" class="inline-form">
    <label class="field"><span>Key name</span><input name="name" required maxlength="${NAME_MAX}" placeholder="e.g. lab-robot-3 or ci" autocomplete="off"></label>
    <button type="submit" class="button primary">Create key</button>
  </form>
  ${extra.error ? html`<p class="form-error" role="alert">${extra.error}</p>` : ''}
</section>
<section class="card" aria-labelledby="keys-title">
  <h2 id="keys-title">Keys</h2>
  ${
    keys.length === 0
      ? html`<p class="muted">No keys yet. Create one above, then <code>export ROBOTRACE_API_KEY=…</code>.</p>`
      : html`<div class="table-wrap"><table class="keys">
    <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${keys.map(keyRow)}</tbody>
  </table></div>`
  }
</section>`,
  });
}

export function registerApiKeysPage(router: Router, kit: PortalKit): void {
  router.on(
    'GET',
    '/portal/api-keys',
    portalPage(kit, async (ctx) => render(ctx, kit, await requireViewer(ctx, kit.s))),
  );

  router.on(
    'POST',
    '/portal/api-keys',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, kit.s);
      const viewer = await requireViewer(ctx, kit.s);
      const name = (await readForm(ctx)).get('name')?.trim() ?? '';
      if (name === '' || name.length > NAME_MAX)
        return render(ctx, kit, viewer, {
          error: `Give the key a name of 1–${NAME_MAX} characters.`,
          status: 400,
        });
      const created = await createApiKey(kit.s.core, viewer.scope, name);
      kit.s.log.info('api key created in the portal', { prefix: created.prefix, user: viewer.user.email });
      // Rendered in this response (never redirected with the key in a URL, never stored in a cookie).
      await render(ctx, kit, viewer, { created: { key: created.key, name }, status: 201 });
    }),
  );

  router.on(
    'POST',
    '/portal/api-keys/:id/revoke',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, kit.s);
      const viewer = await requireViewer(ctx, kit.s);
      await revokeApiKey(kit.s.core, viewer.scope, ctx.params.id ?? '');
      kit.s.log.info('api key revoked in the portal', { key_id: ctx.params.id, user: viewer.user.email });
      throw new Redirect('/portal/api-keys');
    }),
  );
}
