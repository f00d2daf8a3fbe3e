/**
 * Trace link templates (TRACE_CONTEXT.md §3): a template plus an episode's otel block and times gives the URL
 * behind an "Open trace" button, or no button. Pure: the portal reads the configuration at start and calls this
 * per episode.
 */

/** The otel block as stored (ids always present on a stored block; traceparent/tracestate optional). */
export interface TraceLinkOtel {
  trace_id?: string | undefined;
  span_id?: string | undefined;
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/** What a template is resolved against: one episode (or, on the trace page, one trace's window). */
export interface TraceLinkInput {
  episodeId?: string | undefined;
  otel: TraceLinkOtel | null;
  /** The time window the APM should open on, in epoch milliseconds. */
  window: { startMs: number; endMs: number };
}

export type TraceLinkResult =
  | { kind: 'link'; url: string }
  /** The episode lacks a value the template needs: no button for this episode. */
  | { kind: 'missing'; placeholder: string }
  /** The template cannot produce a safe link: a configuration error, never rendered. */
  | { kind: 'config_error'; message: string };

/** Seconds added on both sides of an episode's own time span. */
export const TRACE_WINDOW_PADDING_S = 300;

export const TRACE_LINK_PLACEHOLDERS = [
  'trace_id',
  'span_id',
  'traceparent',
  'episode_id',
  'dd_trace_id',
  'xray_trace_id',
  'start_unix_s',
  'end_unix_s',
  'start_unix_ms',
  'end_unix_ms',
  'start_iso',
  'end_iso',
] as const;
export type TraceLinkPlaceholder = (typeof TRACE_LINK_PLACEHOLDERS)[number];

const KNOWN = new Set<string>(TRACE_LINK_PLACEHOLDERS);
const PLACEHOLDER = /\{([a-z_]+)\}/g;
const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * Window of an episode: start = created_at − duration_s − 300 s; end = (finalized_at, else created_at) + 300 s.
 * A missing duration counts as 0.
 */
export function episodeWindow(e: {
  created_at: string | Date;
  duration_s?: number | null;
  finalized_at?: string | Date | null;
}): { startMs: number; endMs: number } {
  const created = new Date(e.created_at).getTime();
  const finalized = e.finalized_at ? new Date(e.finalized_at).getTime() : created;
  const durationMs = Math.round((e.duration_s ?? 0) * 1000);
  return {
    startMs: created - durationMs - TRACE_WINDOW_PADDING_S * 1000,
    endMs: finalized + TRACE_WINDOW_PADDING_S * 1000,
  };
}

/** The value of one placeholder, or undefined when the input lacks it. */
function placeholderValue(name: TraceLinkPlaceholder, input: TraceLinkInput): string | undefined {
  const traceId = input.otel?.trace_id;
  const validTraceId = traceId && TRACE_ID.test(traceId) ? traceId : undefined;
  const { startMs, endMs } = input.window;
  switch (name) {
    case 'trace_id':
      return traceId || undefined;
    case 'span_id':
      return input.otel?.span_id || undefined;
    case 'traceparent':
      return input.otel?.traceparent || undefined;
    case 'episode_id':
      return input.episodeId || undefined;
    case 'dd_trace_id':
      // Datadog shows the low 64 bits of a 128-bit trace id, in decimal.
      return validTraceId ? BigInt(`0x${validTraceId.slice(16)}`).toString(10) : undefined;
    case 'xray_trace_id':
      return validTraceId ? `1-${validTraceId.slice(0, 8)}-${validTraceId.slice(8)}` : undefined;
    case 'start_unix_s':
      return finite(startMs) ? String(Math.floor(startMs / 1000)) : undefined;
    case 'end_unix_s':
      return finite(endMs) ? String(Math.floor(endMs / 1000)) : undefined;
    case 'start_unix_ms':
      return finite(startMs) ? String(Math.floor(startMs)) : undefined;
    case 'end_unix_ms':
      return finite(endMs) ? String(Math.floor(endMs)) : undefined;
    case 'start_iso':
      return finite(startMs) ? new Date(startMs).toISOString() : undefined;
    case 'end_iso':
      return finite(endMs) ? new Date(endMs).toISOString() : undefined;
  }
}

const finite = (n: number) => Number.isFinite(n);

/**
 * Why a resolved URL may not become a link, or null when it is an absolute http(s) URL with a host.
 * Anything else (`javascript:`, `data:`, relative, protocol-relative, whitespace tricks) is refused.
 */
export function unsafeLinkReason(url: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return 'contains whitespace or control characters';
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (!scheme) return 'is not an absolute URL (it must start with https:// or http://)';
  if (scheme !== 'http' && scheme !== 'https')
    return `uses the "${scheme}:" scheme; only https:// and http:// links are allowed`;
  if (!/^https?:\/\/[^/?#\\]/i.test(url)) return 'has no host after the scheme';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '')
    return 'is not an absolute http(s) URL';
  return null;
}

/**
 * Resolves a template: known placeholders are replaced by their percent-encoded value, any other `{…}` is
 * left as written (Grafana Explore URLs carry JSON). The result must be an absolute http(s) URL.
 */
export function resolveTraceLink(template: string, input: TraceLinkInput): TraceLinkResult {
  let missing: string | undefined;
  const url = template.replace(PLACEHOLDER, (whole, name: string) => {
    if (!KNOWN.has(name)) return whole;
    const value = placeholderValue(name as TraceLinkPlaceholder, input);
    if (value === undefined) {
      missing ??= name;
      return whole;
    }
    return encodeURIComponent(value);
  });
  const reason = unsafeLinkReason(url);
  if (reason !== null) return { kind: 'config_error', message: `the resulting link ${reason}` };
  if (missing !== undefined) return { kind: 'missing', placeholder: missing };
  return { kind: 'link', url };
}

/** The sample a template is checked and previewed against (the spec's vector episode). */
export const SAMPLE_TRACE_LINK_INPUT: TraceLinkInput = {
  episodeId: '0b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69',
  otel: {
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    span_id: '00f067aa0ba902b7',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'rojo=00f067aa0ba902b7',
  },
  window: episodeWindow({
    created_at: '2026-11-24T10:00:00Z',
    duration_s: 12.5,
    finalized_at: '2026-11-24T10:00:20Z',
  }),
};

// ---- Configuration: NEXT_PUBLIC_TRACE_URL_TEMPLATE and ROBOTRACE_TRACE_LINKS. ----

export interface TraceLinkTemplate {
  /** Button label. */
  name: string;
  template: string;
  /** Where it was configured, for messages ("ROBOTRACE_TRACE_LINKS[1]"). */
  source: string;
  /** Why it is refused (never rendered), or null when it is usable. */
  error: string | null;
  /** The template resolved against the sample trace (null when refused). */
  preview: string | null;
}

export interface TraceLinkConfig {
  /** Every configured template, usable or refused, in button order. */
  templates: TraceLinkTemplate[];
  /** Problems that are not about one template (e.g. ROBOTRACE_TRACE_LINKS is not JSON). */
  errors: string[];
}

export const DEFAULT_TRACE_LINK_NAME = 'Open trace';
const MAX_NAME_CHARS = 60;
const MAX_TEMPLATE_CHARS = 4000;

/** Checks a template once, at start, by resolving it against the sample trace. */
export function checkTraceLinkTemplate(template: string): { error: string | null; preview: string | null } {
  if (template.length > MAX_TEMPLATE_CHARS)
    return { error: `the template is longer than ${MAX_TEMPLATE_CHARS} characters`, preview: null };
  const result = resolveTraceLink(template, SAMPLE_TRACE_LINK_INPUT);
  if (result.kind === 'config_error') return { error: result.message, preview: null };
  if (result.kind === 'missing') return { error: null, preview: null };
  return { error: null, preview: result.url };
}

function entry(name: string, template: string, source: string): TraceLinkTemplate {
  const { error, preview } = checkTraceLinkTemplate(template);
  return { name, template, source, error, preview };
}

/**
 * Reads both variables (their raw values; the caller reads them at run time). Never throws: a bad value is
 * reported in `errors` or on the template, so one typo does not take the server down.
 */
export function parseTraceLinkConfig(raw: {
  urlTemplate?: string | undefined;
  links?: string | undefined;
}): TraceLinkConfig {
  const templates: TraceLinkTemplate[] = [];
  const errors: string[] = [];
  const single = raw.urlTemplate?.trim();
  if (single) templates.push(entry(DEFAULT_TRACE_LINK_NAME, single, 'NEXT_PUBLIC_TRACE_URL_TEMPLATE'));

  const links = raw.links?.trim();
  if (!links) return { templates, errors };
  let parsed: unknown;
  try {
    parsed = JSON.parse(links);
  } catch (err) {
    errors.push(
      `ROBOTRACE_TRACE_LINKS is not valid JSON (${(err as Error).message}); expected an array like [{"name":"Honeycomb","url":"https://…/trace?trace_id={trace_id}"}]`,
    );
    return { templates, errors };
  }
  if (!Array.isArray(parsed)) {
    errors.push('ROBOTRACE_TRACE_LINKS must be a JSON array of {"name": "...", "url": "..."} objects');
    return { templates, errors };
  }
  parsed.forEach((item: unknown, i) => {
    const where = `ROBOTRACE_TRACE_LINKS[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      errors.push(`${where} must be an object {"name": "...", "url": "..."}`);
      return;
    }
    const { name, url } = item as { name?: unknown; url?: unknown };
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME_CHARS) {
      errors.push(`${where}.name must be a non-empty string of at most ${MAX_NAME_CHARS} characters`);
      return;
    }
    if (typeof url !== 'string' || url.trim() === '') {
      errors.push(`${where}.url must be a non-empty string (the link template)`);
      return;
    }
    templates.push(entry(name.trim(), url.trim(), `${where} "${name.trim()}"`));
  });
  return { templates, errors };
}

export interface ResolvedTraceLink {
  name: string;
  url: string;
}

/** The buttons for one episode: usable templates only, skipping those needing a value the block lacks. */
export function traceLinksFor(config: TraceLinkConfig, input: TraceLinkInput): ResolvedTraceLink[] {
  const out: ResolvedTraceLink[] = [];
  for (const t of config.templates) {
    if (t.error !== null) continue;
    const result = resolveTraceLink(t.template, input);
    if (result.kind === 'link') out.push({ name: t.name, url: result.url });
  }
  return out;
}
