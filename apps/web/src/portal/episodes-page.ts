import { type Episode, EpisodeSource, EpisodeStatus, ListEpisodesQuery } from '@robotrace/contracts';
import { AppError, listEpisodes, parseTraceLookup } from '@robotrace/core';
import type { HttpContext } from '../http/context.js';
import type { Router } from '../http/router.js';
import { duration, firstEpisodeHelp, orDash, statusBadge, time } from './components.js';
import { DELETE_PATH, deletedNotice } from './delete-page.js';
import { chromeOf, type PortalKit, portalPage, requireViewer } from './guard.js';
import { type Html, html } from './html.js';
import { sendPage } from './layout.js';

const PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
/** The filters a shared URL carries (dates are YYYY-MM-DD, UTC, inclusive). */
const FILTER_KEYS = ['q', 'status', 'source', 'policy_version', 'robot', 'from', 'to', 'limit'] as const;
/** Keys that narrow the list (limit only changes the page size). */
const NARROWING = FILTER_KEYS.filter((k) => k !== 'limit');
type Filters = Partial<Record<(typeof FILTER_KEYS)[number], string>>;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function filtersOf(url: URL): Filters {
  const f: Filters = {};
  for (const k of FILTER_KEYS) {
    const v = url.searchParams.get(k)?.trim();
    if (v) f[k] = v;
  }
  return f;
}

/** Portal filters → the API's list query; a problem becomes a message on the page, not an error page. */
function queryOf(
  f: Filters,
  cursor: string | null,
): { query: ListEpisodesQuery | null; problem: string | null } {
  if (f.from && !DATE.test(f.from)) return { query: null, problem: 'The “from” date must be YYYY-MM-DD.' };
  if (f.to && !DATE.test(f.to)) return { query: null, problem: 'The “to” date must be YYYY-MM-DD.' };
  const parsed = ListEpisodesQuery.safeParse({
    q: f.q,
    status: f.status,
    source: f.source,
    policy_version: f.policy_version,
    robot: f.robot,
    created_after: f.from ? `${f.from}T00:00:00.000Z` : undefined,
    created_before: f.to ? `${f.to}T23:59:59.999Z` : undefined,
    limit: pageSize(f.limit),
    cursor: cursor ?? undefined,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      query: null,
      problem: `This filter is not valid: ${issue?.path.join('.')} ${issue?.message ?? ''}`,
    };
  }
  return { query: parsed.data, problem: null };
}

function pageSize(raw: string | undefined): number {
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_PAGE_SIZE) : PAGE_SIZE;
}

function listUrl(f: Filters, cursor?: string): string {
  const p = new URLSearchParams();
  for (const k of FILTER_KEYS) if (f[k]) p.set(k, f[k] ?? '');
  if (cursor) p.set('cursor', cursor);
  const qs = p.toString();
  return qs ? `/portal/episodes?${qs}` : '/portal/episodes';
}

function select(name: string, label: string, options: readonly string[], current: string | undefined): Html {
  return html`<label class="field"><span>${label}</span><select name="${name}">
  <option value="">Any</option>
  ${options.map((o) => html`<option value="${o}"${o === current ? html` selected` : ''}>${o}</option>`)}
</select></label>`;
}

function filterForm(f: Filters): Html {
  return html`<form class="filters" method="get" action="/portal/episodes" role="search" aria-label="Filter episodes">
  <label class="field search-field"><span>Search</span>
    <input type="search" name="q" value="${f.q ?? ''}" placeholder="Name, version, trace id, traceparent, APM URL…" title="A name, a policy version, or any trace reference: trace id, traceparent, APM URL, X-Ray id, span id" aria-label="Search episodes" aria-keyshortcuts="/" autocomplete="off" spellcheck="false">
  </label>
  ${select('status', 'Status', EpisodeStatus.options, f.status)}
  ${select('source', 'Source', EpisodeSource.options, f.source)}
  <label class="field"><span>Policy version</span><input name="policy_version" value="${f.policy_version ?? ''}" autocomplete="off"></label>
  <label class="field"><span>Robot</span><input name="robot" value="${f.robot ?? ''}" autocomplete="off"></label>
  <label class="field"><span>From (UTC)</span><input type="date" name="from" value="${f.from ?? ''}"></label>
  <label class="field"><span>To (UTC)</span><input type="date" name="to" value="${f.to ?? ''}"></label>
  <div class="filter-actions">
    <button type="submit" class="button primary">Apply</button>
    ${f.limit ? html`<input type="hidden" name="limit" value="${f.limit}">` : ''}
    ${NARROWING.some((k) => f[k]) ? html`<a class="button ghost" href="/portal/episodes">Clear</a>` : ''}
  </div>
</form>`;
}

/** What the search box understood, when it is a trace reference. */
function lookupBanner(q: string | undefined): Html {
  const ref = q ? parseTraceLookup(q) : null;
  if (!ref) return html``;
  if (ref.trace_id)
    return html`<p class="banner" role="status">Episodes of trace <code>${ref.trace_id}</code>${
      ref.span_id ? html` and span <code>${ref.span_id}</code>` : ''
    } · <a href="/portal/traces/${ref.trace_id}">Open the trace page</a></p>`;
  return html`<p class="banner" role="status">Episodes logged under span <code>${ref.span_id ?? ''}</code></p>`;
}

function row(e: Episode): Html {
  return html`<tr>
  <td class="select-cell"><input type="checkbox" name="ids" value="${e.id}" form="compare-form" data-compare-select aria-label="Select ${e.name ?? e.id}"></td>
  <td>${statusBadge(e.status)}</td>
  <td class="name-cell"><a href="/portal/episodes/${e.id}">${e.name ?? html`<span class="muted">Unnamed</span>`}</a><span class="muted small mono">${e.id.slice(0, 8)}</span></td>
  <td>${e.source}</td>
  <td class="mono">${orDash(e.policy_version)}</td>
  <td>${orDash(e.robot)}</td>
  <td class="num">${duration(e.duration_s)}</td>
  <td>${time(e.created_at, { relative: true })}</td>
  <td>${
    e.otel
      ? html`<a class="trace-pill" href="/portal/traces/${e.otel.trace_id}" aria-label="Trace ${e.otel.trace_id}" title="Trace ${e.otel.trace_id}"><span aria-hidden="true">⌁</span> ${e.otel.trace_id.slice(0, 8)}</a>`
      : html`<span class="muted" aria-label="no trace">—</span>`
  }</td>
</tr>`;
}

function table(episodes: Episode[]): Html {
  return html`<div class="table-wrap"><table class="episodes">
  <caption class="visually-hidden">Episodes, newest first</caption>
  <thead><tr><th scope="col"><span class="visually-hidden">Select</span></th><th scope="col">Status</th><th scope="col">Episode</th><th scope="col">Source</th><th scope="col">Policy</th><th scope="col">Robot</th><th scope="col" class="num">Duration</th><th scope="col">Created</th><th scope="col">Trace</th></tr></thead>
  <tbody>${episodes.map(row)}</tbody>
</table></div>`;
}

async function render(ctx: HttpContext, kit: PortalKit): Promise<void> {
  const viewer = await requireViewer(ctx, kit.s);
  const f = filtersOf(ctx.url);
  const cursor = ctx.url.searchParams.get('cursor');
  let { query, problem } = queryOf(f, cursor);
  let page: { data: Episode[]; next_cursor: string | null } = { data: [], next_cursor: null };
  if (query) {
    try {
      page = await listEpisodes(kit.s.core, viewer.scope, query, ctx);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      problem = err.message;
      query = null;
    }
  }
  const filtered = NARROWING.some((k) => f[k]);
  let content: Html;
  if (problem)
    content = html`<div class="callout callout-failed" role="alert"><p>${problem}</p><p><a href="/portal/episodes">Show all episodes</a></p></div>`;
  else if (page.data.length === 0 && !filtered && !cursor)
    content = html`<section class="empty" aria-labelledby="empty-title"><h2 id="empty-title">No episodes yet</h2>${firstEpisodeHelp(ctx.baseUrl)}</section>`;
  else if (page.data.length === 0)
    content = html`<section class="empty small-empty"><h2>No episodes match</h2><p class="muted">Nothing in this project matches these filters.</p><p><a class="button" href="/portal/episodes">Clear filters</a></p></section>`;
  // Select rows → Compare: a plain GET form (the row checkboxes join it by form=), so it needs no script.
  // The same selection feeds "Delete selected": its button sends the form to the confirmation page instead.
  else
    content = html`<form id="compare-form" class="compare-form" method="get" action="/portal/compare" aria-label="Compare or delete selected episodes"><button type="submit" class="button small">Compare selected (2–4)</button> <button type="submit" class="button small danger-ghost" formaction="${DELETE_PATH}">Delete selected…</button></form>
${table(page.data)}
<nav class="pager" aria-label="Pages">
  ${cursor ? html`<a class="button ghost" href="${listUrl(f)}">← Newest</a>` : html`<span></span>`}
  ${page.next_cursor ? html`<a class="button" href="${listUrl(f, page.next_cursor)}" rel="next">Older →</a>` : html`<span class="muted small">End of list</span>`}
</nav>`;
  sendPage(ctx, kit.assets, {
    title: 'Episodes',
    chrome: chromeOf(viewer, 'episodes'),
    body: html`<header class="page-head"><h1>Episodes</h1></header>
${filterForm(f)}
${deletedNotice(ctx.url)}
${lookupBanner(f.q)}
${content}`,
  });
}

export function registerEpisodesPage(router: Router, kit: PortalKit): void {
  router.on(
    'GET',
    '/portal/episodes',
    portalPage(kit, (ctx) => render(ctx, kit)),
  );
}
