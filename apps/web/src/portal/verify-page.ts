import type { Episode, GateBody, Severity } from '@robotrace/contracts';
import {
  candidateVersions,
  evaluateGate,
  listChecks,
  listScenarios,
  promoteScenario,
  retireScenario,
  type ScenarioRow,
  SEVERITIES,
  scenarioOfEpisode,
  setScenarioSeverity,
} from '@robotrace/core';
import type { Router } from '../http/router.js';
import { time } from './components.js';
import {
  checkSameOrigin,
  chromeOf,
  type PortalKit,
  portalPage,
  Redirect,
  readForm,
  requireViewer,
} from './guard.js';
import { type Html, html } from './html.js';
import { sendPage } from './layout.js';

/**
 * /portal/verify: the release gate (OFFICIAL_PILLARS.md §2). Scenarios by severity with their baseline episodes,
 * the latest status for a chosen candidate version, its blockers, the history of checks; change a scenario's
 * severity or retire it. The episode page's "Promote to verification" card posts here too.
 */
const SEVERITY_HINT: Record<Severity, string> = {
  critical: 'blocks a release',
  warning: 'reported, never blocks',
  info: 'tracked only',
};

function statusBadge(status: string): Html {
  const kind = status === 'pass' ? 'ready' : status === 'pending' ? 'recording' : 'failed';
  return html`<span class="badge badge-${kind}" data-latest-status="${status}"><span class="dot" aria-hidden="true"></span>${status}</span>`;
}

function severitySelect(current: Severity): Html {
  return html`<select name="severity" aria-label="Severity">${SEVERITIES.map(
    (s) => html`<option value="${s}"${s === current ? html` selected` : ''}>${s}</option>`,
  )}</select>`;
}

function scenarioRow(s: ScenarioRow, gate: GateBody | null): Html {
  const latest = gate?.scenarios.find((x) => x.scenario_id === s.id)?.latest_status;
  return html`<tr data-scenario="${s.id}">
  <td><strong>${s.name ?? s.baselineName ?? 'Unnamed scenario'}</strong>${s.description ? html`<p class="muted small">${s.description}</p>` : ''}</td>
  <td><a href="/portal/episodes/${s.baselineEpisodeId}">${s.baselineName ?? s.baselineEpisodeId.slice(0, 8)}</a></td>
  <td>${latest ? statusBadge(latest) : html`<span class="muted">choose a version</span>`}</td>
  <td><form method="post" action="/portal/verify/scenarios/${s.id}/severity" class="inline-form">${severitySelect(s.severity)}<button type="submit" class="button small">Change</button></form></td>
  <td><details class="confirm"><summary class="button small danger-ghost">Retire</summary>
    <form method="post" action="/portal/verify/scenarios/${s.id}/retire" class="confirm-box"><p class="small">The gate stops checking this scenario.</p><button type="submit" class="button small danger">Retire now</button></form>
  </details></td>
</tr>`;
}

function gateBanner(gate: GateBody): Html {
  return html`<section class="card" aria-labelledby="gate-title" data-gate="${gate.passed ? 'pass' : 'blocked'}">
  <h2 id="gate-title">${gate.passed ? '✓ PASS' : '✗ BLOCKED'}: <code>${gate.candidate_policy_version}</code> — ${gate.critical_passed}/${gate.critical_total} critical scenarios pass (${gate.critical_failed} failed, ${gate.critical_pending} pending)</h2>
  ${
    gate.blockers.length > 0
      ? html`<ul class="blockers">${gate.blockers.map((b) => html`<li>${b}</li>`)}</ul>`
      : html`<p class="muted">No blockers.</p>`
  }
</section>`;
}

export function registerVerifyPage(router: Router, kit: PortalKit): void {
  router.on(
    'GET',
    '/portal/verify',
    portalPage(kit, async (ctx) => {
      const viewer = await requireViewer(ctx, kit.s);
      const versions = await candidateVersions(kit.s.core, viewer.scope);
      const chosen = (ctx.url.searchParams.get('candidate') ?? '').trim().slice(0, 200) || versions[0] || '';
      const [scenarios, checks, gate] = await Promise.all([
        listScenarios(kit.s.core, viewer.scope),
        listChecks(kit.s.core, viewer.scope),
        chosen ? evaluateGate(kit.s.core, viewer.scope, chosen) : Promise.resolve(null),
      ]);
      const bySeverity = SEVERITIES.map((sev) => [sev, scenarios.filter((s) => s.severity === sev)] as const);
      sendPage(ctx, kit.assets, {
        title: 'Verify',
        chrome: chromeOf(viewer, 'verify'),
        body: html`<header class="page-head"><div><h1>Release verification</h1><p class="muted">Baseline episodes promoted into the gate. CI runs <code>robotrace verify check --candidate &lt;version&gt; --policy mod:fn</code>.</p></div></header>
<form method="get" action="/portal/verify" class="inline-form" role="search" aria-label="Candidate version">
  <label class="field"><span>Candidate version</span><input name="candidate" value="${chosen}" list="candidate-versions" autocomplete="off"></label>
  <datalist id="candidate-versions">${versions.map((v) => html`<option value="${v}"></option>`)}</datalist>
  <button type="submit" class="button primary">Show</button>
</form>
${gate ? gateBanner(gate) : ''}
${bySeverity.map(
  ([sev, rows]) => html`<section class="card" aria-labelledby="sev-${sev}" data-severity="${sev}">
  <h2 id="sev-${sev}">${sev[0]?.toUpperCase()}${sev.slice(1)} <span class="muted small">· ${SEVERITY_HINT[sev]} · ${rows.length}</span></h2>
  ${
    rows.length === 0
      ? html`<p class="muted small">None. Promote a baseline from its episode page.</p>`
      : html`<div class="table-wrap"><table class="scenarios">
    <thead><tr><th scope="col">Scenario</th><th scope="col">Baseline episode</th><th scope="col">Latest${chosen ? html` for <code>${chosen}</code>` : ''}</th><th scope="col">Severity</th><th scope="col"><span class="visually-hidden">Retire</span></th></tr></thead>
    <tbody>${rows.map((s) => scenarioRow(s, gate))}</tbody>
  </table></div>`
  }
</section>`,
)}
<section class="card" aria-labelledby="history-title">
  <h2 id="history-title">Checks</h2>
  ${
    checks.length === 0
      ? html`<p class="muted small">No checks yet.</p>`
      : html`<div class="table-wrap"><table class="checks">
    <thead><tr><th scope="col">When</th><th scope="col">Candidate</th><th scope="col">Result</th><th scope="col" class="num">Critical passing</th></tr></thead>
    <tbody>${checks.map((c) => {
      const b = c.body as unknown as GateBody;
      return html`<tr><td>${time(c.createdAt.toISOString(), { relative: true })}</td><td><a href="/portal/verify?candidate=${encodeURIComponent(c.candidatePolicyVersion)}"><code>${c.candidatePolicyVersion}</code></a></td><td>${c.passed ? html`<span class="badge badge-ready">pass</span>` : html`<span class="badge badge-failed">blocked</span>`}</td><td class="num">${b.critical_passed}/${b.critical_total}</td></tr>`;
    })}</tbody>
  </table></div>`
  }
</section>`,
      });
    }),
  );

  const severityOf = (raw: string | null): Severity => {
    const s = SEVERITIES.find((x) => x === raw);
    if (!s) throw new Redirect('/portal/verify');
    return s;
  };

  router.on(
    'POST',
    '/portal/verify/scenarios/:id/severity',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, kit.s);
      const viewer = await requireViewer(ctx, kit.s);
      const severity = severityOf((await readForm(ctx)).get('severity'));
      await setScenarioSeverity(kit.s.core, viewer.scope, ctx.params.id ?? '', severity);
      throw new Redirect('/portal/verify');
    }),
  );

  router.on(
    'POST',
    '/portal/verify/scenarios/:id/retire',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, kit.s);
      const viewer = await requireViewer(ctx, kit.s);
      await retireScenario(kit.s.core, viewer.scope, ctx.params.id ?? '');
      throw new Redirect('/portal/verify');
    }),
  );

  router.on(
    'POST',
    '/portal/episodes/:id/promote',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, kit.s);
      const viewer = await requireViewer(ctx, kit.s);
      const form = await readForm(ctx);
      const id = ctx.params.id ?? '';
      const name = form.get('name')?.trim().slice(0, 200) || null;
      const description = form.get('description')?.trim().slice(0, 5000) || null;
      await promoteScenario(kit.s.core, viewer.scope, {
        baseline_episode_id: id,
        severity: severityOf(form.get('severity')),
        name,
        description,
      });
      throw new Redirect(`/portal/episodes/${id}`);
    }),
  );
}

/** The episode page's "Promote to verification" card (or where it already is in the gate). */
export async function promoteCard(kit: PortalKit, scope: { projectId: string }, e: Episode): Promise<Html> {
  const scenario = await scenarioOfEpisode(kit.s.core, scope, e.id);
  if (scenario && !scenario.retiredAt)
    return html`<section class="card" aria-labelledby="promote-title" data-promoted="${scenario.severity}">
  <h2 id="promote-title">Verification</h2>
  <p class="small">A <strong>${scenario.severity}</strong> scenario of the release gate${scenario.name ? html`: ${scenario.name}` : ''}.</p>
  ${scenario.description ? html`<p class="muted small">${scenario.description}</p>` : ''}
  <p><a class="button small" href="/portal/verify">Open the gate</a></p>
</section>`;
  return html`<section class="card" aria-labelledby="promote-title">
  <h2 id="promote-title">Promote to verification</h2>
  <form method="post" action="/portal/episodes/${e.id}/promote" class="promote-form">
    <label class="field"><span>Severity</span>${severitySelect('warning')}</label>
    <label class="field"><span>Scenario name</span><input name="name" maxlength="200" value="${e.name ?? ''}" autocomplete="off"></label>
    <label class="field"><span>Why this matters</span><textarea name="description" maxlength="5000" rows="3" placeholder="What must never regress here"></textarea></label>
    <button type="submit" class="button primary small">Promote</button>
  </form>
</section>`;
}
