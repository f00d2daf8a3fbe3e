/**
 * TRACE_CONTEXT.md §4 for the CLI: what a pasted string refers to. Lenient on purpose (case, spaces, dashes,
 * URLs), unlike ingest. The server has its own parser for `?q=`; both run the shared `lookup` vectors.
 */
export interface TraceLookup {
  trace_id?: string;
  span_id?: string;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(?:-.*)?$/;
const XRAY = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/;
const ANY_HEX32 = /(?:^|[^0-9a-f])([0-9a-f]{32})(?![0-9a-f])/;
// Query keys APM tools use for a trace id (Honeycomb trace_id, Grafana traceId, Jaeger/Zipkin traceID, …).
const TRACE_PARAM = /^(trace[_-]?id|trace|tid)$/i;

const isZero = (hex: string) => /^0+$/.test(hex);

export function parseTraceLookup(input: string): TraceLookup | null {
  const text = input.trim().toLowerCase();
  if (text.length === 0 || text.length > 2000) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(text)) return fromUrl(input.trim());
  return fromToken(text);
}

function fromToken(text: string): TraceLookup | null {
  const traceparent = TRACEPARENT.exec(text);
  if (traceparent) {
    const [, version, traceId, spanId] = traceparent as unknown as [string, string, string, string];
    if (version === 'ff' || isZero(traceId)) return null;
    return isZero(spanId) ? { trace_id: traceId } : { trace_id: traceId, span_id: spanId };
  }
  const xray = XRAY.exec(text);
  if (xray) return traceIdOnly(`${xray[1]}${xray[2]}`);
  // A trace id pasted in UUID form or with stray separators.
  const compact = text.replace(/[-\s]/g, '');
  if (HEX32.test(compact)) return traceIdOnly(compact);
  if (HEX16.test(compact)) return isZero(compact) ? null : { span_id: compact };
  return null;
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
  const anywhere = ANY_HEX32.exec(decodeSafely(raw).toLowerCase());
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
