/**
 * TRACE_CONTEXT.md §4: what a pasted string refers to. Lenient on purpose (case, spaces, dashes, URLs, a
 * `traceparent:` header line), unlike ingest. This is the only TypeScript implementation: the CLI uses it and
 * the server re-exports it (packages/core/src/lookup.ts), so both read every `lookup` vector identically. It
 * imports nothing, so the published SDK stays free of server code.
 */
export interface TraceLookup {
  trace_id?: string;
  span_id?: string;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(?:-.*)?$/;
const EMBEDDED_TRACEPARENT =
  /(?:^|[^0-9a-f-])([0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})(?![0-9a-f])/;
const XRAY = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/;
const EMBEDDED_HEX32 = /(?:^|[^0-9a-f])([0-9a-f]{32})(?![0-9a-f])/;
// Query keys APM tools use for a trace id (Honeycomb trace_id, Grafana traceId, Jaeger/Zipkin traceID, …).
const TRACE_PARAM = /^(trace[_-]?id|trace|tid)$/i;
const MAX_INPUT = 2000;

const isZero = (hex: string) => /^0+$/.test(hex);

/** Null when the text names no trace or span (the portal then runs a plain text search). */
export function parseTraceLookup(input: string): TraceLookup | null {
  const raw = input.trim();
  const text = raw.toLowerCase();
  if (text.length === 0 || text.length > MAX_INPUT) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(text)) return fromUrl(raw);
  const token = fromToken(text);
  if (token !== undefined) return token;
  // Free text around an id, e.g. a log line or `traceparent: 00-…-01`: a traceparent keeps its span.
  const traceparent = EMBEDDED_TRACEPARENT.exec(text)?.[1];
  if (traceparent) return fromToken(traceparent) ?? null;
  const embedded = EMBEDDED_HEX32.exec(text)?.[1];
  return embedded ? traceIdOnly(embedded) : null;
}

/**
 * One whole token: a traceparent, an X-Ray id, a trace id (also in UUID form or with stray spaces) or a span
 * id. `undefined` when it is none of these; null when it is one but names nothing (all zeros, version ff), so
 * the caller does not go looking inside it.
 */
function fromToken(text: string): TraceLookup | null | undefined {
  const traceparent = TRACEPARENT.exec(text);
  if (traceparent) {
    const [, version, traceId, spanId] = traceparent as unknown as [string, string, string, string];
    if (version === 'ff' || isZero(traceId)) return null;
    return isZero(spanId) ? { trace_id: traceId } : { trace_id: traceId, span_id: spanId };
  }
  const xray = XRAY.exec(text);
  if (xray) return traceIdOnly(`${xray[1]}${xray[2]}`);
  const compact = text.replace(/[-\s]/g, '');
  if (HEX32.test(compact)) return traceIdOnly(compact);
  if (HEX16.test(compact)) return isZero(compact) ? null : { span_id: compact };
  return undefined;
}

/** APM links carry the trace id in a query parameter, a path segment or the fragment (X-Ray consoles). */
function fromUrl(raw: string): TraceLookup | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  for (const [key, value] of url.searchParams) {
    if (!TRACE_PARAM.test(key)) continue;
    const found = fromToken(value.trim().toLowerCase());
    if (found?.trace_id) return traceIdOnly(found.trace_id);
  }
  const pieces = [...url.pathname.split('/'), ...decodeSafely(url.hash).split(/[/#:=&?]/)];
  for (const piece of pieces) {
    const found = fromToken(decodeSafely(piece).trim().toLowerCase());
    if (found?.trace_id) return traceIdOnly(found.trace_id);
  }
  const anywhere = EMBEDDED_HEX32.exec(decodeSafely(raw).toLowerCase());
  return anywhere?.[1] ? traceIdOnly(anywhere[1]) : null;
}

function traceIdOnly(traceId: string): TraceLookup | null {
  return isZero(traceId) ? null : { trace_id: traceId };
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
