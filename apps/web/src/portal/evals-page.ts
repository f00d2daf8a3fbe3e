import { type EvalRunListItem, listEvalRuns } from '@robotrace/core';
import type { Router } from '../http/router.js';
import { orDash, time } from './components.js';
import { chromeOf, type PortalKit, portalPage, requireViewer } from './guard.js';
import { type Html, html } from './html.js';
import { sendPage } from './layout.js';

/** /portal/evals: the project's eval runs, newest first (OFFICIAL_PILLARS.md §1, §7). */
export function runStatusBadge(status: string): Html {
  const kind =
    status === 'completed' ? 'ready' : status === 'failed' || status === 'cancelled' ? 'failed' : 'recording';
  return html`<span class="badge badge-${kind}" data-run-status="${status}"><span class="dot" aria-hidden="true"></span>${status}</span>`;
}

export function recommendPill(
  recommend: 'ship' | 'hold' | null,
  better: number | null,
  total: number | null,
): Html {
  if (!recommend) return html`<span class="muted">not finalized</span>`;
  return html`<span class="badge badge-${recommend === 'ship' ? 'ready' : 'failed'}" data-recommend="${recommend}">Recommend ${recommend} · ${better ?? 0}/${total ?? 0} better</span>`;
}

function row(r: EvalRunListItem): Html {
  const done = r.completed + r.failed;
  return html`<tr>
  <td class="name-cell"><a href="/portal/evals/${r.id}">${r.name ?? html`<span class="muted">Unnamed run</span>`}</a><span class="muted small mono">${r.id.slice(0, 8)}</span></td>
  <td class="mono">${r.candidatePolicyVersion} <span class="muted">vs</span> ${orDash(r.baselinePolicyVersion)}</td>
  <td>${runStatusBadge(r.status)}</td>
  <td>${recommendPill(r.recommend, r.betterCount, r.metricTotal)}</td>
  <td class="num" aria-label="${done} of ${r.total} results in">${done}/${r.total}${r.failed > 0 ? html` <span class="muted">(${r.failed} failed)</span>` : ''}</td>
  <td>${time(r.createdAt.toISOString(), { relative: true })}</td>
</tr>`;
}

export function registerEvalsPage(router: Router, kit: PortalKit): void {
  router.on(
    'GET',
    '/portal/evals',
    portalPage(kit, async (ctx) => {
      const viewer = await requireViewer(ctx, kit.s);
      const runs = await listEvalRuns(kit.s.core, viewer.scope);
      sendPage(ctx, kit.assets, {
        title: 'Evals',
        chrome: chromeOf(viewer, 'evals'),
        body: html`<header class="page-head"><div><h1>Eval runs</h1><p class="muted">A candidate policy replayed against baseline episodes: <code>robotrace replay run --policy mod:fn --candidate-version … --baseline-episodes …</code></p></div></header>
<section class="card" aria-labelledby="runs-title">
  <h2 id="runs-title" class="visually-hidden">Runs</h2>
  ${
    runs.length === 0
      ? html`<p class="muted">No eval runs yet.</p>`
      : html`<div class="table-wrap"><table class="evals">
    <caption class="visually-hidden">Eval runs, newest first</caption>
    <thead><tr><th scope="col">Run</th><th scope="col">Candidate vs baseline</th><th scope="col">Status</th><th scope="col">Recommendation</th><th scope="col" class="num">Progress</th><th scope="col">Created</th></tr></thead>
    <tbody>${runs.map(row)}</tbody>
  </table></div>`
  }
</section>`,
      });
    }),
  );
}
