import type { Episode } from '@robotrace/contracts';
import {
  ANALYZER_VERSION,
  analyzeEpisode,
  type Finding,
  getEpisode,
  getInsights,
  provideInsightTracks,
} from '@robotrace/core';
import type { Router } from '../http/router.js';
import { trackDeps } from '../routes/tracks.js';
import { duration, time } from './components.js';
import { checkSameOrigin, type PortalKit, portalPage, Redirect, requireViewer } from './guard.js';
import { type Html, html } from './html.js';

/**
 * The episode page's "Insights" card (failure insights, computed when an episode is finalized failed) and its
 * "Re-run analysis" form. Every value from the analyzer (track and span names come from uploaded files and the
 * team's trace backend) goes through the escaping template; the only links are our own paths.
 */
function evidenceList(evidence: Record<string, unknown>): Html {
  const entries = Object.entries(evidence);
  if (entries.length === 0) return html``;
  return html`<dl class="facts small">${entries.map(
    ([k, v]) =>
      html`<div><dt>${k}</dt><dd><code>${typeof v === 'string' ? v : JSON.stringify(v)}</code></dd></div>`,
  )}</dl>`;
}

function findingItem(e: Episode, f: Finding): Html {
  const seek =
    typeof f.seek_s === 'number' && Number.isFinite(f.seek_s)
      ? html`<a class="button small" data-insight-seek href="/portal/episodes/${e.id}?t=${String(Math.max(0, Math.round(f.seek_s * 1000)))}">Seek to ${duration(f.seek_s)}</a>`
      : '';
  const span =
    f.span_id && e.otel
      ? html`<a class="button small ghost" href="/portal/traces/${e.otel.trace_id}">Span ${f.span_id.slice(0, 16)} in the trace</a>`
      : '';
  return html`<li class="insight" data-rule="${f.rule}">
  <p><strong>${f.title}</strong> <span class="muted small" title="confidence">${String(Math.round(f.confidence * 100))} % confidence</span></p>
  <p class="small">${f.description}</p>
  ${evidenceList(f.evidence)}
  <p class="small"><span class="muted">Next step:</span> ${f.next_step}</p>
  <p>${seek} ${span}</p>
</li>`;
}

/** The most confident findings shown open; the rest fold away (they stay on the page, for search and tests). */
const SHOWN = 3;

/** The card, or nothing for an episode that is not failed and was never analyzed. */
export async function insightsCard(kit: PortalKit, scope: { projectId: string }, e: Episode): Promise<Html> {
  const stored = await getInsights(kit.s.core, scope, e.id);
  if (!stored && e.status !== 'failed') return html``;
  const rerun = html`<form method="post" action="/portal/episodes/${e.id}/insights" class="inline"><button type="submit" class="button small">Re-run analysis</button></form>`;
  let body: Html;
  if (!stored) body = html`<p class="muted small">Not analyzed yet.</p>`;
  else if (stored.status === 'running')
    body = html`<p class="muted small" data-insights-status="running">Analyzing… reload the page in a moment.</p>`;
  else
    body = html`${
      stored.stale
        ? html`<p class="callout small" data-insights-stale>These results come from analyzer v${String(stored.analyzerVersion)}; this server runs v${String(ANALYZER_VERSION)}. Re-run the analysis for current results.</p>`
        : ''
    }
${
  stored.findings.length === 0
    ? html`<p class="muted small">${stored.status === 'error' ? 'The analysis did not finish.' : 'No findings: nothing the rules recognise.'}</p>`
    : html`<ol class="insights">${stored.findings.slice(0, SHOWN).map((f) => findingItem(e, f))}</ol>${
        stored.findings.length > SHOWN
          ? html`<details class="more-insights"><summary>${String(stored.findings.length - SHOWN)} more finding${stored.findings.length - SHOWN === 1 ? '' : 's'}</summary><ol class="insights" start="${String(SHOWN + 1)}">${stored.findings.slice(SHOWN).map((f) => findingItem(e, f))}</ol></details>`
          : ''
      }`
}
${
  stored.errors.length > 0
    ? html`<details class="small"><summary>Analyzer notes (${String(stored.errors.length)})</summary><ul>${stored.errors.map((x) => html`<li>${x}</li>`)}</ul></details>`
    : ''
}
<p class="muted small">Analyzer v${String(stored.analyzerVersion)}${stored.finishedAt ? html` · ${time(stored.finishedAt.toISOString(), { relative: true })}` : ''}</p>`;
  return html`<section class="card insights-card" aria-labelledby="insights-title" data-insights-status="${stored?.status ?? 'none'}">
  <h2 id="insights-title">Insights</h2>
  ${body}
  ${rerun}
</section>`;
}

export function registerInsightsActions(router: Router, kit: PortalKit): void {
  // The analyzer reads replay tracks through the same ports as the tracks API.
  provideInsightTracks(kit.s.core, async () => (await trackDeps(kit.s)).tracks);

  router.on(
    'POST',
    '/portal/episodes/:id/insights',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, kit.s);
      const viewer = await requireViewer(ctx, kit.s);
      // Scoped read first: another project's episode is a 404, never analyzed.
      const e = await getEpisode(kit.s.core, viewer.scope, ctx.params.id ?? '', ctx);
      const result = await analyzeEpisode(kit.s.core, viewer.scope, e.id);
      kit.s.log.info('failure analysis re-run', {
        episode_id: e.id,
        status: result.status,
        user: viewer.user.email,
      });
      throw new Redirect(`/portal/episodes/${e.id}`);
    }),
  );
}
