import type { Episode } from '@robotrace/contracts';
import { AppError, deleteEpisode, describeDeletion, getEpisode, NotFoundError } from '@robotrace/core';
import type { HttpContext } from '../http/context.js';
import type { Router } from '../http/router.js';
import { bytes, statusBadge } from './components.js';
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

/**
 * Deleting episodes from the portal (issue 20): the episode page's Delete action and the list's "Delete selected"
 * both open one confirmation page (`GET /portal/episodes/delete?ids=…`) that names what goes — the episodes, their
 * artifacts and bytes — and what blocks it (eval runs, verification scenarios), with an option to remove those links
 * too. The POST deletes through core (`deleteEpisode`) and lands on the list with a notice.
 */
export const DELETE_PATH = '/portal/episodes/delete';
/** As many as the list shows on its largest page: one selection is never split. */
const MAX_IDS = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Description = Awaited<ReturnType<typeof describeDeletion>>;

/** Selected ids, de-duplicated, lower-cased; anything that is not a UUID cannot be an episode and is dropped. */
function idsOf(values: string[]): string[] {
  const ids = new Set<string>();
  for (const raw of values) {
    const id = raw.trim().toLowerCase();
    if (UUID.test(id)) ids.add(id);
  }
  if (ids.size > MAX_IDS)
    throw new AppError(400, 'validation_error', `Select at most ${MAX_IDS} episodes to delete at once.`);
  return [...ids];
}

/** The selected episodes of the viewer's project; another project's or an already deleted id is just absent. */
async function loadEpisodes(ctx: HttpContext, kit: PortalKit, viewer: Viewer, ids: string[]) {
  const found: Episode[] = [];
  let missing = 0;
  for (const id of ids) {
    try {
      found.push(await getEpisode(kit.s.core, viewer.scope, id, ctx));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      missing++;
    }
  }
  return { found, missing };
}

function countOf(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function hasReferences(d: Description): boolean {
  return d.references.eval_runs.length > 0 || d.references.scenarios.length > 0;
}

function episodeItem(e: Episode): Html {
  const stored = e.artifacts.filter((a) => a.uploaded);
  const size = stored.reduce((sum, a) => sum + (a.size_bytes ?? 0), 0);
  return html`<li data-delete-episode="${e.id}">${statusBadge(e.status)} <a href="/portal/episodes/${e.id}">${e.name ?? 'Unnamed episode'}</a> <span class="muted small mono">${e.id.slice(0, 8)}</span> <span class="muted small">· ${countOf(stored.length, 'artifact')} · ${bytes(size)}</span></li>`;
}

function referencesCallout(d: Description, refused: boolean): Html {
  if (!hasReferences(d)) return html``;
  const { eval_runs: runs, scenarios } = d.references;
  return html`<div class="callout callout-failed" role="${refused ? 'alert' : 'note'}" data-delete-references>
  <strong>${refused ? 'Not deleted: these episodes are still referenced.' : 'Referenced elsewhere.'}</strong>
  <p>Deleting is refused while these point at the selection, unless their links are removed too (the runs and the gate lose these episodes; nothing else of them is deleted).</p>
  ${
    runs.length > 0
      ? html`<p>Eval runs:</p><ul>${runs.map((r) => html`<li><a href="/portal/evals/${r.id}">${r.name ?? r.id.slice(0, 8)}</a></li>`)}</ul>`
      : ''
  }
  ${
    scenarios.length > 0
      ? html`<p>Verification scenarios:</p><ul>${scenarios.map((s) => html`<li><a href="/portal/verify">${s.name ?? s.id.slice(0, 8)}</a></li>`)}</ul>`
      : ''
  }
</div>`;
}

async function renderConfirm(
  ctx: HttpContext,
  kit: PortalKit,
  viewer: Viewer,
  ids: string[],
  o: { status?: number; refused?: boolean; unlink?: boolean; deletedBefore?: number } = {},
): Promise<void> {
  const { found, missing } = await loadEpisodes(ctx, kit, viewer, ids);
  if (found.length === 0) throw new NotFoundError();
  const d = await describeDeletion(kit.s.core, {
    projectId: viewer.project.id,
    episodeIds: found.map((e) => e.id),
  });
  const n = found.length;
  const single = n === 1 ? found[0] : undefined;
  const what = single ? `“${single.name ?? 'Unnamed episode'}”` : countOf(n, 'episode');
  const cancel = single ? `/portal/episodes/${single.id}` : '/portal/episodes';
  sendPage(ctx, kit.assets, {
    title: 'Delete episodes',
    status: o.status ?? 200,
    chrome: chromeOf(viewer, 'episodes'),
    body: html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/portal/episodes">Episodes</a> <span aria-hidden="true">/</span> <span>Delete</span></nav>
<header class="page-head"><div><h1>Delete ${what}?</h1><p class="muted">This cannot be undone.</p></div></header>
<section class="card" aria-labelledby="delete-what-title" data-delete-summary data-episodes="${String(n)}" data-artifacts="${String(d.artifacts)}" data-bytes="${String(d.bytes)}">
  <h2 id="delete-what-title">What goes</h2>
  <p><strong>${countOf(n, 'episode')}, ${countOf(d.artifacts, 'artifact')}, ${bytes(d.bytes)}</strong> of storage — the files, their replay track index and failure insights with them.</p>
  <ul class="delete-list">${found.map(episodeItem)}</ul>
  ${missing > 0 ? html`<p class="muted small">${countOf(missing, 'selected episode was', 'selected episodes were')} not found (already deleted, or not in this project) and ${missing === 1 ? 'is' : 'are'} skipped.</p>` : ''}
</section>
${o.deletedBefore ? html`<p class="banner" role="status" data-deleted-before="${String(o.deletedBefore)}">${countOf(o.deletedBefore, 'episode was', 'episodes were')} deleted before a reference to the rest appeared; these are left.</p>` : ''}
${referencesCallout(d, o.refused === true)}
<form method="post" action="${DELETE_PATH}" class="card delete-form" aria-label="Confirm deletion">
  ${found.map((e) => html`<input type="hidden" name="ids" value="${e.id}">`)}
  ${
    hasReferences(d)
      ? html`<p><label><input type="checkbox" name="unlink_references" value="1"${o.unlink ? html` checked` : ''}> Also remove the links from these eval runs and scenarios</label></p>`
      : ''
  }
  <p><button type="submit" class="button danger">Delete ${countOf(n, 'episode')}</button> <a class="button ghost" href="${cancel}">Cancel</a></p>
</form>`,
  });
}

/** The list URL with the outcome as a notice (numbers only: the list page renders them). */
function noticeUrl(o: {
  deleted: number;
  artifacts: number;
  freed: number;
  pending: number;
  missing: number;
}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v > 0 || k === 'deleted') p.set(k, String(v));
  return `/portal/episodes?${p.toString()}`;
}

export function registerDeletePage(router: Router, kit: PortalKit): void {
  router.on(
    'GET',
    DELETE_PATH,
    portalPage(kit, async (ctx) => {
      const viewer = await requireViewer(ctx, kit.s);
      const ids = idsOf(ctx.url.searchParams.getAll('ids'));
      if (ids.length === 0)
        throw new AppError(400, 'validation_error', 'Select one or more episodes to delete first.');
      await renderConfirm(ctx, kit, viewer, ids);
    }),
  );

  router.on(
    'POST',
    DELETE_PATH,
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, kit.s);
      const viewer = await requireViewer(ctx, kit.s);
      const form = await readForm(ctx);
      const ids = idsOf(form.getAll('ids'));
      const unlink = form.get('unlink_references') === '1';
      if (ids.length === 0) throw new Redirect('/portal/episodes');
      const projectId = viewer.project.id;
      // Refuse the whole selection up front when a reference blocks it, so a bulk delete never stops half-way.
      if (!unlink) {
        const d = await describeDeletion(kit.s.core, { projectId, episodeIds: ids });
        if (hasReferences(d)) return renderConfirm(ctx, kit, viewer, ids, { status: 409, refused: true });
      }
      const outcome = { deleted: 0, artifacts: 0, freed: 0, pending: 0, missing: 0 };
      for (const episodeId of ids) {
        try {
          const r = await deleteEpisode(kit.s.core, { projectId, episodeId, unlinkReferences: unlink });
          outcome.deleted++;
          outcome.artifacts += r.artifacts_deleted;
          outcome.freed += r.bytes_freed;
          if (r.pending_storage) outcome.pending++;
        } catch (err) {
          // Deleted meanwhile (another tab, the sweeper): what the user asked for is true.
          if (err instanceof NotFoundError) outcome.missing++;
          // Referenced meanwhile: show the references of what is left.
          else if (err instanceof AppError && err.status === 409) {
            const left = ids.slice(ids.indexOf(episodeId));
            return renderConfirm(ctx, kit, viewer, left, {
              status: 409,
              refused: true,
              deletedBefore: outcome.deleted,
            });
          } else throw err;
        }
      }
      // Nothing of the selection was in this project (or all of it was gone already): a 404, like its confirmation.
      if (outcome.deleted === 0) throw new NotFoundError();
      kit.s.log.info('episodes deleted in the portal', {
        deleted: outcome.deleted,
        pending_storage: outcome.pending,
        user: viewer.user.email,
      });
      throw new Redirect(noticeUrl(outcome));
    }),
  );
}

/** The list's notice after a delete: read back from the redirect's numbers (anything else in them is ignored). */
export function deletedNotice(url: URL): Html {
  const num = (k: string): number | null => {
    const raw = url.searchParams.get(k);
    return raw !== null && /^\d{1,15}$/.test(raw) ? Number(raw) : null;
  };
  const deleted = num('deleted');
  if (deleted === null) return html``;
  const pending = num('pending') ?? 0;
  const missing = num('missing') ?? 0;
  return html`<div class="banner" role="status" data-deleted-notice="${String(deleted)}">
  <p><strong>Deleted ${countOf(deleted, 'episode')}</strong> — ${countOf(num('artifacts') ?? 0, 'artifact')}, ${bytes(num('freed') ?? 0)} freed.</p>
  ${missing > 0 ? html`<p class="small">${countOf(missing, 'episode was', 'episodes were')} already gone.</p>` : ''}
  ${pending > 0 ? html`<p class="small" data-pending-storage>Storage refused to delete the files of ${countOf(pending, 'episode')}: ${pending === 1 ? 'it is' : 'they are'} gone from the portal and the API, and the sweeper retries the files (see Settings).</p>` : ''}
</div>`;
}
