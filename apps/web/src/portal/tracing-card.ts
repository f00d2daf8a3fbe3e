import type { OtelBlock } from '@robotrace/contracts';
import { isSampled, type ResolvedTraceLink } from '@robotrace/core';
import { copyable } from './components.js';
import { type Html, html, safeHref } from './html.js';

/** The "Open trace" buttons; the first one is what `t` opens. */
export function traceLinkButtons(links: ResolvedTraceLink[]): Html {
  return html`${links.map(
    (l, i) =>
      html`<a class="button${i === 0 ? ' primary' : ''}" href="${safeHref(l.url)}" target="_blank" rel="noopener noreferrer"${i === 0 ? html` data-trace-link` : ''}>${l.name === 'Open trace' ? 'Open trace' : `Open in ${l.name}`}<span class="external" aria-hidden="true">↗</span></a>`,
  )}`;
}

/**
 * What the trace backend has, filled in by span-lane.js after the page loaded (the page never waits for the
 * backend). The spans themselves are a lane on the replay timeline (replay.js), which takes the links from here:
 * they carry this episode's span id, which the lane swaps for the clicked span's — "Open in <APM>" per span
 * through the same run-time templates.
 */
function traceStatus(block: OtelBlock, links: ResolvedTraceLink[]): Html {
  return html`<p class="trace-status muted small" data-trace-status data-span-links="${JSON.stringify(links)}" data-span-link-marker="${block.span_id}" role="status" aria-live="polite">Asking the trace backend…</p>`;
}

function sampledText(block: OtelBlock): Html {
  const sampled = isSampled(block);
  if (sampled === null) return html`<span class="muted">unknown (no traceparent)</span>`;
  return sampled
    ? html`<span class="pill pill-ok">yes</span>`
    : html`<span class="pill">no</span> <span class="muted small">the APM may not have kept this trace</span>`;
}

/**
 * TRACE_CONTEXT.md §3: shown only for an episode with a valid otel block. Ids with copy buttons, sampled,
 * the trace links (run-time templates), the keyboard hint and the other episodes of the trace.
 */
export function tracingCard(o: {
  block: OtelBlock;
  links: ResolvedTraceLink[];
  /** Episodes of this trace in the project (this one included), capped. */
  episodesInTrace: number;
  cap: number;
  configured: boolean;
}): Html {
  const { block, links } = o;
  const others = Math.max(0, o.episodesInTrace - 1);
  const othersText = o.episodesInTrace >= o.cap ? `${o.cap - 1}+` : String(others);
  const rows: [string, string | undefined][] = [
    ['trace_id', block.trace_id],
    ['span_id', block.span_id],
    ['traceparent', block.traceparent],
    ['tracestate', block.tracestate],
  ];
  return html`<section aria-label="Tracing" class="card tracing-card" data-trace-id="${block.trace_id}" data-trace-card>
  <div class="card-head">
    <h2>Tracing</h2>
    <p class="shortcut-hint" id="trace-shortcuts">${
      links.length > 0 ? html`Press <kbd>t</kbd> to open the trace · ` : ''
    }<kbd>y</kbd> to copy the trace id</p>
  </div>
  <dl class="facts tracing-facts">
    ${rows.map(([label, value]) =>
      value ? html`<div><dt>${label}</dt><dd>${copyable(value, label)}</dd></div>` : '',
    )}
    <div><dt>sampled</dt><dd>${sampledText(block)}</dd></div>
  </dl>
  ${traceStatus(block, links)}
  <div class="trace-actions">
    ${
      links.length > 0
        ? traceLinkButtons(links)
        : html`<p class="muted small">${
            o.configured
              ? 'No trace link applies to this episode (a template needs a value its trace context lacks).'
              : 'Set NEXT_PUBLIC_TRACE_URL_TEMPLATE (or ROBOTRACE_TRACE_LINKS) to get an “Open trace” button for your APM.'
          } <a href="/portal/settings">Trace link settings</a></p>`
    }
    <a class="trace-others" href="/portal/traces/${block.trace_id}">Other episodes in this trace: ${othersText}</a>
  </div>
</section>`;
}
