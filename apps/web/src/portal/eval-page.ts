import {
  type EvalSummary,
  episodeLabels,
  evalRunOfEpisode,
  getEvalRun,
  type MetricSummary,
} from '@robotrace/core';
import type { Router } from '../http/router.js';
import { orDash, time } from './components.js';
import { recommendPill, runStatusBadge } from './evals-page.js';
import { chromeOf, type PortalKit, portalPage, requireViewer } from './guard.js';
import { type Html, html } from './html.js';
import { sendPage } from './layout.js';

/**
 * /portal/evals/{id}: the diff card (five metrics, baseline / candidate / delta, better or worse, the
 * recommendation) and one row per baseline with a button to the replay compare page (issue 14 builds it).
 */
const METRICS: ReadonlyArray<[keyof EvalSummary, string, string]> = [
  ['success_rate', 'Success rate', 'higher is better'],
  ['reward_mean', 'Mean reward', 'higher is better'],
  ['collision_rate', 'Collisions per episode', 'lower is better'],
  ['time_to_goal_s', 'Time to goal (s)', 'lower is better'],
  ['ood_action_share', 'Out-of-distribution actions', 'informational'],
];

const num = (v: number, signed = false) => {
  const s = Math.abs(v) >= 100 ? v.toFixed(1) : Number(v.toPrecision(4)).toString();
  return signed && v > 0 ? `+${s}` : s;
};

function verdict(m: MetricSummary, informational: boolean): Html {
  if (informational) return html`<span class="muted" data-verdict="info">info</span>`;
  if (m.delta_is_better === true)
    return html`<span class="badge badge-ready" data-verdict="better">▲ better</span>`;
  if (m.delta_is_better === false)
    return html`<span class="badge badge-failed" data-verdict="worse">▼ worse</span>`;
  return html`<span class="muted" data-verdict="tie">= same</span>`;
}

function diffCard(summary: EvalSummary): Html {
  const rows = METRICS.map(([key, label, hint]) => {
    const m = summary[key] as MetricSummary | undefined;
    if (!m)
      return html`<tr data-metric="${key}"><th scope="row">${label}<span class="muted small"> · ${hint}</span></th><td colspan="4" class="muted">no data</td></tr>`;
    return html`<tr data-metric="${key}"><th scope="row">${label}<span class="muted small"> · ${hint}</span></th><td class="num">${num(m.baseline)}</td><td class="num">${num(m.candidate)}</td><td class="num">${num(m.delta, true)}</td><td>${verdict(m, key === 'ood_action_share')}</td></tr>`;
  });
  return html`<section class="card diff-card" aria-labelledby="diff-title">
  <h2 id="diff-title">Baseline vs candidate ${recommendPill(summary.recommend, summary.better_count, summary.metric_total)}</h2>
  <div class="table-wrap"><table class="diff">
    <thead><tr><th scope="col">Metric</th><th scope="col" class="num">Baseline</th><th scope="col" class="num">Candidate</th><th scope="col" class="num">Delta</th><th scope="col">Verdict</th></tr></thead>
    <tbody>${rows}</tbody>
  </table></div>
  <p class="muted small">Means over ${summary.results_counted} complete result${summary.results_counted === 1 ? '' : 's'}. Ship when no metric got worse and at least one got better (docs/EVALS.md).</p>
</section>`;
}

/** A compact, escaped view of one result's metrics (every value as JSON text). */
function metricsCell(metrics: Record<string, unknown>): Html {
  const entries = Object.entries(metrics).filter(([, v]) => v !== null && v !== undefined);
  if (entries.length === 0) return html`<span class="muted">—</span>`;
  return html`<ul class="metric-list">${entries.map(
    ([k, v]) =>
      html`<li><span class="muted">${k}</span> <code>${typeof v === 'number' ? num(v) : JSON.stringify(v)}</code></li>`,
  )}</ul>`;
}

export function registerEvalPage(router: Router, kit: PortalKit): void {
  router.on(
    'GET',
    '/portal/evals/:id',
    portalPage(kit, async (ctx) => {
      const viewer = await requireViewer(ctx, kit.s);
      const { run, summary, results } = await getEvalRun(kit.s.core, viewer.scope, ctx.params.id ?? '');
      const labels = await episodeLabels(
        kit.s.core,
        viewer.scope,
        results.flatMap((r) => [
          r.baselineEpisodeId,
          ...(r.candidateEpisodeId ? [r.candidateEpisodeId] : []),
        ]),
      );
      const episodeLink = (id: string | null) => {
        if (!id) return html`<span class="muted">—</span>`;
        const l = labels.get(id);
        return l
          ? html`<a href="/portal/episodes/${id}">${l.name ?? id.slice(0, 8)}</a>`
          : html`<span class="mono muted" title="not an episode of this project">${id.slice(0, 8)}</span>`;
      };
      const title = run.name ?? `Eval run ${run.id.slice(0, 8)}`;
      sendPage(ctx, kit.assets, {
        title,
        chrome: chromeOf(viewer, 'evals'),
        body: html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/portal/evals">Evals</a> <span aria-hidden="true">/</span> <span>${title}</span></nav>
<header class="page-head"><div>
  <h1>${title} ${runStatusBadge(run.status)}</h1>
  <p class="muted small">Candidate <code>${run.candidatePolicyVersion}</code> vs baseline <code>${run.baselinePolicyVersion ?? 'mixed'}</code> · created ${time(run.createdAt.toISOString(), { relative: true })}${run.finalizedAt ? html` · finalized ${time(run.finalizedAt.toISOString(), { relative: true })}` : ''}</p>
</div></header>
${diffCard(summary)}
<section class="card" aria-labelledby="results-title">
  <h2 id="results-title">Results (${results.length})</h2>
  <div class="table-wrap"><table class="eval-results">
    <thead><tr><th scope="col">Baseline</th><th scope="col">Candidate</th><th scope="col">Status</th><th scope="col">Metrics</th><th scope="col">Error</th><th scope="col"><span class="visually-hidden">Compare</span></th></tr></thead>
    <tbody>${results.map(
      (r) => html`<tr data-baseline="${r.baselineEpisodeId}">
      <td>${episodeLink(r.baselineEpisodeId)}</td>
      <td>${episodeLink(r.candidateEpisodeId)}</td>
      <td>${runStatusBadge(r.status === 'complete' ? 'completed' : r.status)}</td>
      <td>${metricsCell(r.metrics)}</td>
      <td>${orDash(r.error)}</td>
      <td>${
        r.candidateEpisodeId
          ? html`<a class="button small" href="/portal/compare?ids=${r.baselineEpisodeId},${r.candidateEpisodeId}">Compare</a>`
          : ''
      }</td>
    </tr>`,
    )}</tbody>
  </table></div>
</section>`,
      });
    }),
  );
}

/** The candidate episode's "Part of eval run" pill, from `metadata.eval_run_id` (nothing when it names no run). */
export async function evalRunPill(
  kit: PortalKit,
  scope: { projectId: string },
  metadata: Record<string, unknown>,
): Promise<Html> {
  const run = await evalRunOfEpisode(kit.s.core, scope, metadata);
  if (!run) return html``;
  return html`<a class="pill" data-eval-run-pill href="/portal/evals/${run.id}">Part of eval run ${run.name ?? run.id.slice(0, 8)} · ${run.candidatePolicyVersion}</a>`;
}
