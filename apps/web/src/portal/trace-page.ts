import type { Episode } from '@robotrace/contracts';
import { episodesOfTrace, episodeWindow, isTraceId, NotFoundError, traceLinksFor } from '@robotrace/core';
import type { Router } from '../http/router.js';
import { copyable, duration, orDash, statusBadge, time } from './components.js';
import { chromeOf, type PortalKit, portalPage, Redirect, requireViewer } from './guard.js';
import { type Html, html } from './html.js';
import { sendPage } from './layout.js';
import type { PortalConfig } from './portal-config.js';
import { traceLinkButtons } from './tracing-card.js';

const MAX_EPISODES = 500;

/** The window of a whole trace: from the earliest episode start to the latest episode end. */
function traceWindow(episodes: Episode[]): { startMs: number; endMs: number } {
  const windows = episodes.map((e) => episodeWindow(e));
  return {
    startMs: Math.min(...windows.map((w) => w.startMs)),
    endMs: Math.max(...windows.map((w) => w.endMs)),
  };
}

function row(e: Episode, i: number): Html {
  return html`<li class="trace-row">
  <span class="trace-index" aria-hidden="true">${i + 1}</span>
  <div class="trace-row-main">
    <a href="/portal/episodes/${e.id}" class="trace-row-name">${e.name ?? 'Unnamed episode'}</a>
    <span class="muted small">${e.source} · ${orDash(e.robot)} · ${orDash(e.policy_version)} · ${duration(e.duration_s)}</span>
  </div>
  <span class="trace-span"><span class="muted small">span</span> <code>${e.otel?.span_id ?? ''}</code></span>
  ${statusBadge(e.status)}
  ${time(e.created_at)}
</li>`;
}

export function registerTracePage(router: Router, kit: PortalKit, config: PortalConfig): void {
  router.on(
    'GET',
    '/portal/traces/:traceId',
    portalPage(kit, async (ctx) => {
      const viewer = await requireViewer(ctx, kit.s);
      const raw = ctx.params.traceId ?? '';
      const traceId = raw.trim().toLowerCase();
      if (!isTraceId(traceId)) throw new NotFoundError('Not a trace id');
      if (traceId !== raw) throw new Redirect(`/portal/traces/${traceId}`, 302);
      // Scoped to the viewer's project: a trace with no episode here (or only in another project) is a 404.
      const episodes = await episodesOfTrace(kit.s.core, viewer.scope, traceId, ctx, MAX_EPISODES);
      const first = episodes[0];
      if (!first) throw new NotFoundError('No episode of this project carries this trace');
      // Trace-level links: the trace id with the window of the whole trace (span values from the first episode).
      const links = traceLinksFor(config.traceLinks, {
        episodeId: first.id,
        otel: first.otel,
        window: traceWindow(episodes),
      });
      const spans = new Set(episodes.map((e) => e.otel?.span_id)).size;
      sendPage(ctx, kit.assets, {
        title: `Trace ${traceId.slice(0, 8)}`,
        chrome: chromeOf(viewer, 'episodes'),
        body: html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/portal/episodes">Episodes</a> <span aria-hidden="true">/</span> <span>Trace</span></nav>
<header class="page-head">
  <div>
    <h1>Trace</h1>
    <p class="trace-id-line">${copyable(traceId, 'trace_id')}</p>
    <p class="muted">${episodes.length}${episodes.length === MAX_EPISODES ? '+' : ''} episode${episodes.length === 1 ? '' : 's'} in time order · ${spans} span${spans === 1 ? '' : 's'}</p>
  </div>
  <div class="trace-actions" data-trace-id="${traceId}">${traceLinkButtons(links)}${
    // Replay compare takes 2–4 episodes: the first four of the trace, in time order.
    episodes.length >= 2
      ? html`<a class="button" href="/portal/compare?ids=${episodes
          .slice(0, 4)
          .map((e) => e.id)
          .join(',')}">Compare these episodes${episodes.length > 4 ? ' (first 4)' : ''}</a>`
      : ''
  }</div>
</header>
<section class="card trace-waterfall-card" aria-labelledby="waterfall-title">
  <h2 id="waterfall-title">Waterfall</h2>
  <p class="muted small">Every span the trace backend has for this trace; each episode is a bar over its window: click one to open it at that moment.</p>
  <div data-trace-waterfall data-trace-id="${traceId}" data-span-links="${JSON.stringify(links)}" data-span-link-marker="${first.otel?.span_id ?? ''}"><p class="muted">Asking the trace backend…</p></div>
</section>
<ol class="trace-list card" aria-label="Episodes of this trace">${episodes.map(row)}</ol>`,
      });
    }),
  );
}
