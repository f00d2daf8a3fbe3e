import {
  AppError,
  getRetention,
  type PendingStorage,
  pendingStorageDeletions,
  setRetention,
  storageUsage,
} from '@robotrace/core';
import type { HttpContext } from '../http/context.js';
import type { Router } from '../http/router.js';
import { bytes, time } from './components.js';
import {
  checkSameOrigin,
  type PortalKit,
  portalPage,
  Redirect,
  readForm,
  requireViewer,
  type Viewer,
} from './guard.js';
import { type Html, html } from './html.js';

/**
 * The settings page's data lifecycle cards (issue 20): retention (keep N days, failed ones M days, or forever),
 * what the next sweep will delete and what the last one did, and the storage the project uses. The form posts to
 * `/portal/settings/retention`; a refused value re-renders the page with the field named (400).
 */
export const RETENTION_PATH = '/portal/settings/retention';
const FIELDS = ['keep_days', 'keep_failed_days'] as const;
type Field = (typeof FIELDS)[number];
const LABEL: Record<Field, string> = {
  keep_days: 'Keep episodes for (days)',
  keep_failed_days: 'Keep failed episodes for (days)',
};

type Retention = Awaited<ReturnType<typeof getRetention>>;
type Usage = Awaited<ReturnType<typeof storageUsage>>;

/** What the form showed when it was refused: the raw values back in their fields, and the problem. */
export interface RetentionFormState {
  values: Record<Field, string>;
  error: string;
  field: Field | null;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function daysText(days: number | null): string {
  return days === null ? 'forever' : plural(days, 'day');
}

function retentionField(field: Field, value: string, invalid: boolean): Html {
  return html`<label class="field"><span>${LABEL[field]}</span><input name="${field}" type="number" min="1" max="3650" step="1" inputmode="numeric" value="${value}" placeholder="off" autocomplete="off"${
    invalid ? html` aria-invalid="true" aria-describedby="retention-error"` : ''
  }></label>`;
}

function nextSweepBlock(r: Retention): Html {
  const next = r.next_sweep;
  if (r.keep_days === null && r.keep_failed_days === null)
    return html`<p class="muted small" data-next-sweep="off">Retention is off: no episode is deleted by age.</p>`;
  return html`<div data-next-sweep="${String(next.episodes)}" data-next-sweep-bytes="${String(next.bytes)}">
  <p><strong>The next sweep deletes ${plural(next.episodes, 'episode')} (${bytes(next.bytes)})</strong>${next.episodes === 0 ? ' — nothing has expired yet.' : ':'}</p>
  ${
    next.sample.length > 0
      ? html`<ul class="sweep-sample">${next.sample.map(
          (e) =>
            html`<li><a href="/portal/episodes/${e.episode_id}">${e.name ?? 'Unnamed episode'}</a> <span class="muted small">created ${time(e.created_at, { relative: true })}</span></li>`,
        )}</ul>${next.episodes > next.sample.length ? html`<p class="muted small">… and ${plural(next.episodes - next.sample.length, 'more')}.</p>` : ''}`
      : ''
  }
  <p class="muted small">Episodes promoted into verification are never swept.</p>
</div>`;
}

function lastSweepBlock(r: Retention): Html {
  const last = r.last_sweep;
  if (!last) return html`<p class="muted small" data-last-sweep="none">No sweep has run yet.</p>`;
  return html`<dl class="facts" data-last-sweep="${String(last.deleted)}">
  <div><dt>started</dt><dd>${time(last.started_at)}</dd></div>
  <div><dt>finished</dt><dd>${last.finished_at ? time(last.finished_at) : html`<span class="muted">still running</span>`}</dd></div>
  <div><dt>deleted</dt><dd>${plural(last.deleted, 'episode')} · ${bytes(last.bytes_freed)} freed</dd></div>
  <div><dt>errors</dt><dd>${
    last.errors > 0
      ? html`<span class="form-error" data-pending-storage>${plural(last.errors, 'deletion')} could not finish (storage refused); the files are kept marked and retried on the next sweep.</span>`
      : '0'
  }</dd></div>
  ${last.message ? html`<div><dt>message</dt><dd>${last.message}</dd></div>` : ''}
</dl>`;
}

export function retentionCard(r: Retention, state?: RetentionFormState): Html {
  const values: Record<Field, string> = state?.values ?? {
    keep_days: r.keep_days === null ? '' : String(r.keep_days),
    keep_failed_days: r.keep_failed_days === null ? '' : String(r.keep_failed_days),
  };
  return html`<section class="card" aria-labelledby="retention-title" data-retention>
  <h2 id="retention-title">Retention</h2>
  <p class="muted">Episodes older than this are deleted with their files by the sweeper. Leave a field empty to keep those episodes forever. Now: all episodes <strong data-keep-days>${daysText(r.keep_days)}</strong>, failed ones <strong data-keep-failed-days>${daysText(r.keep_failed_days ?? r.keep_days)}</strong>${r.updated_at ? html` · changed ${time(r.updated_at, { relative: true })}` : ''}.</p>
  <form method="post" action="${RETENTION_PATH}" class="inline-form" novalidate aria-label="Retention">
    ${FIELDS.map((f) => retentionField(f, values[f], state?.field === f))}
    <button type="submit" class="button primary">Save retention</button>
  </form>
  ${state ? html`<p class="form-error" role="alert" id="retention-error">${state.error}</p>` : ''}
  <h3>Next sweep</h3>
  ${nextSweepBlock(r)}
  <h3>Last sweep</h3>
  ${lastSweepBlock(r)}
</section>`;
}

/** Files of deleted episodes the store has not confirmed removed: gone from every read, still taking space. */
function pendingBlock(p: PendingStorage): Html {
  if (p.files === 0) return html``;
  return html`<div class="callout${p.failing > 0 ? ' callout-failed' : ''}" role="note" data-pending-storage="${String(p.episodes)}">
  <strong>Deletion pending for ${plural(p.episodes, 'deleted episode')}</strong>
  <p>${plural(p.files, 'file')} (${bytes(p.bytes)}) are still in storage. The episodes are gone from the portal and the API; the sweeper removes the files${p.failing > 0 ? ' and retries those the store refused' : ''}.</p>
  ${p.lastError ? html`<p class="small">Last refusal: <code class="wrap">${p.lastError}</code></p>` : ''}
</div>`;
}

export function storageCard(u: Usage, pending: PendingStorage): Html {
  return html`<section class="card" aria-labelledby="storage-title" data-storage data-storage-bytes="${String(u.bytes)}" data-storage-artifacts="${String(u.artifacts)}" data-storage-episodes="${String(u.episodes)}">
  <h2 id="storage-title">Storage used</h2>
  <p><strong>${bytes(u.bytes)}</strong> in ${plural(u.artifacts, 'artifact')} of ${plural(u.episodes, 'episode')}.</p>
  ${pendingBlock(pending)}
  ${
    u.by_kind.length > 0
      ? html`<div class="table-wrap"><table class="storage-kinds">
    <caption class="visually-hidden">Storage by artifact kind</caption>
    <thead><tr><th scope="col">Kind</th><th scope="col" class="num">Artifacts</th><th scope="col" class="num">Bytes</th></tr></thead>
    <tbody>${u.by_kind.map(
      (k) =>
        html`<tr data-kind="${k.kind}" data-artifacts="${String(k.artifacts)}" data-bytes="${String(k.bytes)}"><td>${k.kind}</td><td class="num">${String(k.artifacts)}</td><td class="num" title="${String(k.bytes)} bytes">${bytes(k.bytes)}</td></tr>`,
    )}</tbody>
  </table></div>`
      : html`<p class="muted small">No stored artifacts yet.</p>`
  }
  ${
    u.largest.length > 0
      ? html`<h3>Largest episodes</h3><ol class="largest">${u.largest.map(
          (e) =>
            html`<li data-episode="${e.episode_id}" data-bytes="${String(e.bytes)}"><a href="/portal/episodes/${e.episode_id}">${e.name ?? 'Unnamed episode'}</a> <span class="muted small">${bytes(e.bytes)} · ${plural(e.artifacts, 'artifact')}</span></li>`,
        )}</ol>`
      : ''
  }
</section>`;
}

/** Both cards for the settings page. */
export async function lifecycleCards(
  kit: PortalKit,
  viewer: Viewer,
  state?: RetentionFormState,
): Promise<Html> {
  const projectId = viewer.project.id;
  const [retention, usage, pending] = await Promise.all([
    getRetention(kit.s.core, { projectId }),
    storageUsage(kit.s.core, { projectId }),
    pendingStorageDeletions(kit.s.core, viewer.scope),
  ]);
  return html`${retentionCard(retention, state)}${storageCard(usage, pending)}`;
}

/** An empty field (or "off") is "keep forever"; anything else goes to core as a number, which checks the range. */
function daysOf(raw: string): number | null {
  const v = raw.trim().toLowerCase();
  return v === '' || v === 'off' ? null : Number(v);
}

/** The field a refusal names (core's `details` lists the offending paths). */
function fieldOf(err: AppError): Field | null {
  const text = `${JSON.stringify(err.details ?? null)} ${err.message}`;
  return FIELDS.find((f) => text.includes(f)) ?? null;
}

export function registerRetentionForm(
  router: Router,
  kit: PortalKit,
  renderSettings: (ctx: HttpContext, viewer: Viewer, state: RetentionFormState) => Promise<void>,
): void {
  router.on(
    'POST',
    RETENTION_PATH,
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, kit.s);
      const viewer = await requireViewer(ctx, kit.s);
      const form = await readForm(ctx);
      const values = {
        keep_days: form.get('keep_days') ?? '',
        keep_failed_days: form.get('keep_failed_days') ?? '',
      };
      try {
        await setRetention(kit.s.core, {
          projectId: viewer.project.id,
          keep_days: daysOf(values.keep_days),
          keep_failed_days: daysOf(values.keep_failed_days),
        });
      } catch (err) {
        if (!(err instanceof AppError) || err.status !== 400) throw err;
        const field = fieldOf(err);
        const error = `${field ? `${LABEL[field]}: ` : ''}enter a whole number of days from 1 to 3650, or leave the field empty to keep episodes forever.`;
        return renderSettings(ctx, viewer, { values, error, field });
      }
      kit.s.log.info('retention changed in the portal', { ...values, user: viewer.user.email });
      throw new Redirect('/portal/settings#retention-title');
    }),
  );
}
