import type { Episode } from '@robotrace/contracts';
import { countEpisodesOfTrace, episodeWindow, getEpisode, traceLinksFor } from '@robotrace/core';
import type { Router } from '../http/router.js';
import {
  bytes,
  copyable,
  copyButton,
  duration,
  orDash,
  shellQuote,
  statusBadge,
  time,
} from './components.js';
import { DELETE_PATH } from './delete-page.js';
import { evalRunPill } from './eval-page.js';
import { chromeOf, type PortalKit, portalPage, requireViewer } from './guard.js';
import { type Html, html } from './html.js';
import { insightsCard } from './insights-card.js';
import { sendPage } from './layout.js';
import { metadataView } from './metadata-view.js';
import type { PortalConfig } from './portal-config.js';
import { tracingCard } from './tracing-card.js';
import { promoteCard } from './verify-page.js';

const TRACE_COUNT_CAP = 1000;

/** The facts needed to run this episode again, in the order people read them. */
function reproFacts(e: Episode): [string, string | number | null][] {
  return [
    ['policy_version', e.policy_version],
    ['env_version', e.env_version],
    ['git_sha', e.git_sha],
    ['seed', e.seed],
    ['robot', e.robot],
    ['fps', e.fps],
    ['source', e.source],
  ];
}

/** Every control character (C0, DEL, the Unicode line and paragraph separators) as a space, runs folded into one. */
function foldLineBreaks(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const control = c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029;
    if (!control) out += ch;
    else if (!out.endsWith(' ')) out += ' ';
  }
  return out;
}

/** A shell snippet: check out the code, export the facts, log the re-run next to this one. */
export function reproduceSnippet(e: Episode): string {
  // A comment ends at a line break: every control character in the name is folded to a space, or a name with a
  // newline would put the rest of itself on a line of its own, and a pasted snippet would run it.
  const title = e.name && foldLineBreaks(e.name);
  const lines = [`# Reproduce ${title ? `"${title}" — ` : ''}episode ${e.id}`];
  if (e.git_sha) lines.push(`git checkout ${shellQuote(e.git_sha)}`);
  const env: [string, string | number | null][] = [
    ['POLICY_VERSION', e.policy_version],
    ['ENV_VERSION', e.env_version],
    ['SEED', e.seed],
    ['ROBOT', e.robot],
    ['FPS', e.fps],
  ];
  const set = env.filter(([, v]) => v !== null && v !== '');
  if (set.length > 0) lines.push(`export ${set.map(([k, v]) => `${k}=${shellQuote(String(v))}`).join(' ')}`);
  lines.push('# … run the rollout with these, then log the re-run beside the original:');
  const flags: string[] = [`--name ${shellQuote(`${e.name ?? 'episode'} (repro)`)}`, `--source ${e.source}`];
  if (e.robot) flags.push('--robot "$ROBOT"');
  if (e.policy_version) flags.push('--policy-version "$POLICY_VERSION"');
  if (e.env_version) flags.push('--env-version "$ENV_VERSION"');
  if (e.git_sha) flags.push(`--git-sha ${shellQuote(e.git_sha)}`);
  if (e.seed !== null) flags.push('--seed "$SEED"');
  flags.push(`--meta reproduces=${e.id}`);
  lines.push(`npx robotrace log ${flags.join(' ')}`);
  return lines.join('\n');
}

function failureCallout(e: Episode): Html {
  if (e.status !== 'failed') return html``;
  const reason = typeof e.metadata.failure_reason === 'string' ? e.metadata.failure_reason : null;
  return html`<div class="callout callout-failed" role="note" aria-label="Failure">
  <strong>Failed${e.failure_time_s !== null ? html` at ${duration(e.failure_time_s)}` : ''}</strong>
  <p>${reason ?? html`<span class="muted">No failure reason was logged.</span>`}</p>
</div>`;
}

function videoCard(e: Episode): Html {
  const video = e.artifacts.find((a) => a.kind === 'video');
  if (!video?.uploaded)
    return html`<div class="card video-empty"><p class="muted">${
      video ? 'The video was requested but never uploaded.' : 'No video was logged with this episode.'
    }</p></div>`;
  return html`<figure class="card video-card">
  <video controls preload="metadata" playsinline src="/api/episodes/${e.id}/artifact/video" aria-label="Episode video"${
    e.failure_time_s !== null ? html` data-failure-time="${String(e.failure_time_s)}"` : ''
  }></video>
  <figcaption class="video-caption">
    <span class="muted small" data-video-status>${bytes(video.size_bytes)} · ${video.content_type ?? 'video'}</span>
    ${
      e.failure_time_s !== null
        ? html`<button type="button" class="button small" data-seek="${String(e.failure_time_s)}">Jump to failure (${duration(e.failure_time_s)})</button>`
        : ''
    }
  </figcaption>
</figure>`;
}

/**
 * The replay player (apps/web/public/replay.js) when the episode has sensor or action files or a trace the
 * configured trace source can be asked for: the video (rendered here, so it plays before the script runs), the
 * span lane and one lane per track. Without either: today's video card.
 */
function replayCard(e: Episode, traced: boolean): Html {
  const hasTracks = e.artifacts.some((a) => (a.kind === 'sensors' || a.kind === 'actions') && a.uploaded);
  if (!hasTracks && !traced) return videoCard(e);
  const video = e.artifacts.find((a) => a.kind === 'video' && a.uploaded);
  const url = video ? `/api/episodes/${e.id}/artifact/video` : '';
  return html`<section class="card replay-card" aria-labelledby="replay-title">
  <h2 id="replay-title">Replay</h2>
  <div data-replay data-episode-id="${e.id}" data-fps="${e.fps === null ? '' : String(e.fps)}" data-duration-s="${
    e.duration_s === null ? '' : String(e.duration_s)
  }" data-failure-time-s="${e.failure_time_s === null ? '' : String(e.failure_time_s)}" data-video-url="${url}"${
    traced ? html` data-trace-lane` : ''
  }>${
    video
      ? html`<video controls preload="metadata" playsinline src="${url}" aria-label="Episode video"></video>`
      : html`<p class="muted small">No video was logged with this episode: the ${hasTracks ? 'tracks' : 'spans'} alone.</p>`
  }</div>
</section>`;
}

function artifactsCard(e: Episode): Html {
  return html`<section class="card" aria-labelledby="artifacts-title">
  <h2 id="artifacts-title">Artifacts</h2>
  ${
    e.artifacts.length === 0
      ? html`<p class="muted">No artifacts.</p>`
      : html`<ul class="artifact-list">${e.artifacts.map(
          (a) => html`<li>
      <span class="artifact-kind">${a.kind}</span>
      <span class="muted small">${a.uploaded ? `${bytes(a.size_bytes)} · ${a.content_type ?? ''}` : 'not uploaded'}</span>
      ${
        a.uploaded
          ? html`<a class="button small" href="/api/episodes/${e.id}/artifact/${a.kind}" download aria-label="Download ${a.kind}">Download</a>`
          : ''
      }
    </li>`,
        )}</ul>`
  }
</section>`;
}

function timesCard(e: Episode): Html {
  return html`<section class="card" aria-labelledby="times-title">
  <h2 id="times-title">Times</h2>
  <dl class="facts">
    <div><dt>created</dt><dd>${time(e.created_at)}</dd></div>
    <div><dt>finalized</dt><dd>${e.finalized_at ? time(e.finalized_at) : html`<span class="muted">still recording</span>`}</dd></div>
    <div><dt>duration</dt><dd>${duration(e.duration_s)}</dd></div>
    <div><dt>bytes</dt><dd>${bytes(e.bytes_total)}</dd></div>
  </dl>
</section>`;
}

export function registerEpisodePage(router: Router, kit: PortalKit, config: PortalConfig): void {
  router.on(
    'GET',
    '/portal/episodes/:id',
    portalPage(kit, async (ctx) => {
      const viewer = await requireViewer(ctx, kit.s);
      // getEpisode is scoped to the viewer's project: another project's id or a malformed one is a 404.
      const e = await getEpisode(kit.s.core, viewer.scope, ctx.params.id ?? '', ctx);
      const links = e.otel
        ? traceLinksFor(config.traceLinks, { episodeId: e.id, otel: e.otel, window: episodeWindow(e) })
        : [];
      const inTrace = e.otel
        ? await countEpisodesOfTrace(kit.s.core, viewer.scope, e.otel.trace_id, TRACE_COUNT_CAP)
        : 0;
      const snippet = reproduceSnippet(e);
      // Issue 16: the eval-run pill, the failure insights and the verification card.
      const [evalPill, insights, promote] = await Promise.all([
        evalRunPill(kit, viewer.scope, e.metadata),
        insightsCard(kit, viewer.scope, e),
        promoteCard(kit, viewer.scope, e),
      ]);
      const title = e.name ?? 'Unnamed episode';
      sendPage(ctx, kit.assets, {
        title,
        chrome: chromeOf(viewer, 'episodes'),
        body: html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/portal/episodes">Episodes</a> <span aria-hidden="true">/</span> <span>${title}</span></nav>
<header class="page-head episode-head">
  <div>
    <h1>${title} ${statusBadge(e.status)}</h1>
    <p class="muted small">Episode ${copyable(e.id, 'episode id')} · created ${time(e.created_at, { relative: true })}</p>
    ${evalPill}
  </div>
  <a class="button small danger-ghost" href="${DELETE_PATH}?ids=${e.id}" data-delete-episode>Delete…</a>
</header>
<section class="card repro" aria-labelledby="repro-title">
  <h2 id="repro-title">Reproduce</h2>
  <dl class="facts repro-facts">${reproFacts(e).map(
    ([label, value]) =>
      html`<div><dt>${label}</dt><dd>${
        value === null || value === '' ? orDash(value) : copyable(String(value), label)
      }</dd></div>`,
  )}</dl>
  <details class="snippet-details">
    <summary>Reproduce snippet</summary>
    <div class="snippet"><pre><code>${snippet}</code></pre>${copyButton(snippet, 'reproduce snippet')}</div>
  </details>
</section>
${failureCallout(e)}
${insights}
<div class="detail-grid">
  <div class="detail-main">
    ${replayCard(e, e.otel !== null && kit.s.core.traceSource !== undefined)}
    ${metadataView(e.metadata)}
  </div>
  <aside class="detail-side" aria-label="Episode details">
    ${
      e.otel
        ? tracingCard({
            block: e.otel,
            links,
            episodesInTrace: inTrace,
            cap: TRACE_COUNT_CAP,
            configured: config.traceLinks.templates.length > 0,
          })
        : html`<div class="card muted-card"><p class="muted small"><strong>No trace context.</strong> Log an episode inside an OpenTelemetry span and the SDKs attach its trace id here.</p></div>`
    }
    ${promote}
    ${artifactsCard(e)}
    ${timesCard(e)}
  </aside>
</div>`,
      });
    }),
  );
}
