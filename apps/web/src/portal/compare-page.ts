import type { Episode } from '@robotrace/contracts';
import { getEpisode } from '@robotrace/core';
import type { Router } from '../http/router.js';
import { statusBadge } from './components.js';
import { chromeOf, type PortalKit, portalPage, requireViewer } from './guard.js';
import { html } from './html.js';
import { messagePage, sendPage } from './layout.js';

export const COMPARE_MIN = 2;
export const COMPARE_MAX = 4;

/** `?ids=a,b` (also repeated `ids=`): the distinct ids, in order. */
export function compareIds(params: URLSearchParams): string[] {
  const ids = params
    .getAll('ids')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '');
  return [...new Set(ids)];
}

/**
 * What the browser player needs of one episode (data-episodes, JSON escaped by the template). `trace`: it has a
 * trace context and a trace source is configured, so its span lane can be asked for (issue 15).
 */
function playerFacts(e: Episode, traceSourceConfigured: boolean) {
  const video = e.artifacts.find((a) => a.kind === 'video' && a.uploaded);
  return {
    id: e.id,
    name: e.name ?? 'Unnamed episode',
    fps: e.fps,
    duration_s: e.duration_s,
    failure_time_s: e.failure_time_s,
    video_url: video ? `/api/episodes/${e.id}/artifact/video` : null,
    trace: e.otel !== null && traceSourceConfigured,
  };
}

/**
 * `/portal/compare?ids=a,b[,c,d]`: 2–4 episodes of the viewer's project on one synchronized timeline
 * (apps/web/public/replay-compare.js). Another project's id, or a malformed one, is the portal's 404 page.
 */
export function registerComparePage(router: Router, kit: PortalKit): void {
  router.on(
    'GET',
    '/portal/compare',
    portalPage(kit, async (ctx) => {
      const viewer = await requireViewer(ctx, kit.s);
      const ids = compareIds(ctx.url.searchParams);
      if (ids.length < COMPARE_MIN || ids.length > COMPARE_MAX) {
        messagePage(ctx, kit.assets, {
          status: 400,
          title: 'Pick 2 to 4 episodes to compare',
          message:
            ids.length < COMPARE_MIN
              ? `Compare needs at least ${COMPARE_MIN} episodes; this link names ${ids.length}. Select rows on the episodes list, then Compare.`
              : `Compare shows at most ${COMPARE_MAX} episodes at once; this link names ${ids.length}. Remove some and try again.`,
          chrome: chromeOf(viewer, 'episodes'),
        });
        return;
      }
      // Scoped reads: one id from another project (or none at all) makes the whole page a 404.
      const episodes = await Promise.all(ids.map((id) => getEpisode(kit.s.core, viewer.scope, id, ctx)));
      const facts = episodes.map((e) => playerFacts(e, kit.s.core.traceSource !== undefined));
      const allFailed = facts.every((f) => f.failure_time_s !== null);
      sendPage(ctx, kit.assets, {
        title: `Compare ${episodes.length} episodes`,
        chrome: chromeOf(viewer, 'episodes'),
        body: html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/portal/episodes">Episodes</a> <span aria-hidden="true">/</span> <span>Compare</span></nav>
<header class="page-head"><h1>Compare ${episodes.length} episodes</h1></header>
<ol class="compare-legend" aria-label="Episodes compared">${episodes.map(
          (e, i) =>
            html`<li data-compare-index="${String(i)}"><span class="compare-swatch" data-colour="${String(i)}" aria-hidden="true"></span><a href="/portal/episodes/${e.id}">${e.name ?? 'Unnamed episode'}</a> ${statusBadge(e.status)}</li>`,
        )}</ol>
<section class="card replay-card" aria-label="Synchronized replay">
  <div data-replay-compare data-script="${kit.assets.url('replay-compare.js')}" data-episodes="${JSON.stringify(facts)}" data-can-align-failure="${String(allFailed)}"><p class="muted small">Loading the synchronized timeline…</p></div>
</section>`,
      });
    }),
  );
}
