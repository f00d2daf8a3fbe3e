import { SAMPLE_TRACE_LINK_INPUT, type TraceLinkTemplate } from '@robotrace/core';
import type { HttpContext } from '../http/context.js';
import type { Router } from '../http/router.js';
import { copyable } from './components.js';
import { chromeOf, type PortalKit, portalPage, requireViewer, type Viewer } from './guard.js';
import { type Html, html } from './html.js';
import { sendPage } from './layout.js';
import { lifecycleCards, type RetentionFormState, registerRetentionForm } from './lifecycle-settings.js';
import type { PortalConfig } from './portal-config.js';

const EXAMPLE_TEMPLATE = 'https://app.datadoghq.com/apm/trace/{trace_id}';
const EXAMPLE_LINKS =
  '[{"name":"Honeycomb","url":"https://ui.honeycomb.io/<team>/datasets/<dataset>/trace?trace_id={trace_id}&trace_start_ts={start_unix_s}&trace_end_ts={end_unix_s}"}]';

function templateRow(t: TraceLinkTemplate): Html {
  return html`<li class="template${t.error ? ' refused' : ''}">
  <div class="template-head">
    <strong>${t.name}</strong>
    <span class="muted small">${t.source}</span>
    ${t.error ? html`<span class="badge badge-failed">Refused</span>` : html`<span class="badge badge-ready">Active</span>`}
  </div>
  <dl class="facts">
    <div><dt>template</dt><dd><code class="wrap">${t.template}</code></dd></div>
    ${
      t.error
        ? html`<div><dt>problem</dt><dd class="form-error" role="alert">This template is refused: ${t.error}. No button is shown for it. Fix the variable and restart the server.</dd></div>`
        : html`<div><dt>preview</dt><dd>${
            t.preview
              ? html`<code class="wrap" data-preview>${t.preview}</code>`
              : html`<span class="muted">—</span>`
          }</dd></div>`
    }
  </dl>
</li>`;
}

export function registerSettingsPage(router: Router, kit: PortalKit, config: PortalConfig): void {
  /** The page; after a refused retention form, with that form's values and error (status 400). */
  const render = async (ctx: HttpContext, viewer: Viewer, state?: RetentionFormState): Promise<void> => {
    const { templates, errors } = config.traceLinks;
    const sample = SAMPLE_TRACE_LINK_INPUT.otel;
    const lifecycle = await lifecycleCards(kit, viewer, state);
    sendPage(ctx, kit.assets, {
      title: 'Settings',
      status: state ? 400 : 200,
      chrome: chromeOf(viewer, 'settings'),
      body: html`<header class="page-head"><h1>Settings</h1></header>
<section class="card" aria-labelledby="project-title">
  <h2 id="project-title">Project</h2>
  <dl class="facts wide-facts">
    <div><dt>name</dt><dd>${viewer.project.name}</dd></div>
    <div><dt>project id</dt><dd>${copyable(viewer.project.id, 'project id')}</dd></div>
    <div><dt>signed in as</dt><dd>${viewer.user.email}</dd></div>
    <div><dt>sign-up</dt><dd>${kit.s.env.ROBOTRACE_ALLOW_SIGNUP ? 'open (ROBOTRACE_ALLOW_SIGNUP=1)' : 'closed — only the owner account exists unless ROBOTRACE_ALLOW_SIGNUP=1'}</dd></div>
  </dl>
</section>
<section class="card" aria-labelledby="links-title">
  <h2 id="links-title">Trace links</h2>
  <p class="muted">From <code>NEXT_PUBLIC_TRACE_URL_TEMPLATE</code> and <code>ROBOTRACE_TRACE_LINKS</code>, read when the server started: change them and restart — no rebuild. Previews use a sample trace (<code>${sample?.trace_id ?? ''}</code>, span <code>${sample?.span_id ?? ''}</code>).</p>
  ${errors.map((e) => html`<p class="form-error" role="alert">${e}</p>`)}
  ${
    templates.length > 0
      ? html`<ul class="templates">${templates.map(templateRow)}</ul>`
      : html`<div class="empty small-empty"><p><strong>No trace links configured.</strong> Episodes still show their trace ids with copy buttons. To add an “Open trace” button, set for example:</p>
  <pre><code>NEXT_PUBLIC_TRACE_URL_TEMPLATE=${EXAMPLE_TEMPLATE}
ROBOTRACE_TRACE_LINKS='${EXAMPLE_LINKS}'</code></pre></div>`
  }
  <p class="muted small">Placeholders: <code>{trace_id}</code> <code>{span_id}</code> <code>{traceparent}</code> <code>{episode_id}</code> <code>{dd_trace_id}</code> <code>{xray_trace_id}</code> <code>{start_unix_s}</code> <code>{end_unix_s}</code> <code>{start_unix_ms}</code> <code>{end_unix_ms}</code> <code>{start_iso}</code> <code>{end_iso}</code>. Values are percent-encoded; only absolute https:// or http:// results become links.</p>
</section>
${lifecycle}`,
    });
  };
  router.on(
    'GET',
    '/portal/settings',
    portalPage(kit, async (ctx) => render(ctx, await requireViewer(ctx, kit.s))),
  );
  registerRetentionForm(router, kit, render);
}
