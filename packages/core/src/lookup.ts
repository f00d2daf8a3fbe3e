import { isSpanId, isTraceId } from './trace-context.js';

/** What a pasted string refers to: a trace, a span, or (traceparent) both. */
export interface TraceLookup {
  trace_id?: string;
  span_id?: string;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(?:-.*)?$/;
const XRAY = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/;
const UUID_FORM = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/;
const EMBEDDED_TRACE_ID = /(?:^|[^0-9a-f])([0-9a-f]{32})(?![0-9a-f])/;

/**
 * Reads a trace id out of whatever a user pastes (TRACE_CONTEXT.md §4): a trace id in any case with spaces,
 * a traceparent, an X-Ray id, a dashed UUID form, an APM URL containing a trace id, or a 16-hex span id.
 * Lenient on purpose, unlike ingest. Null when it is none of these (then it is a plain text search).
 */
export function parseTraceLookup(input: string): TraceLookup | null {
  const s = input.trim().toLowerCase();
  if (s === '') return null;
  const tp = TRACEPARENT.exec(s);
  if (tp?.[1] && tp[2]) {
    if (!isTraceId(tp[1])) return null;
    return isSpanId(tp[2]) ? { trace_id: tp[1], span_id: tp[2] } : { trace_id: tp[1] };
  }
  const xray = XRAY.exec(s);
  if (xray) return checked(`${xray[1]}${xray[2]}`);
  if (UUID_FORM.test(s)) return checked(s.replaceAll('-', ''));
  if (isSpanId(s)) return { span_id: s };
  const embedded = EMBEDDED_TRACE_ID.exec(s);
  if (embedded?.[1]) return checked(embedded[1]);
  return null;
}

function checked(traceId: string): TraceLookup | null {
  return isTraceId(traceId) ? { trace_id: traceId } : null;
}
