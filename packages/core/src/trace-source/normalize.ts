/**
 * Trace backends answer in three shapes: OTLP JSON (Jaeger v2's /api/v3, any OTLP-JSON URL), OTLP JSON inside an
 * envelope (Jaeger v3 `{result: …}`, Tempo v2 `{trace: …}`, Tempo v1 `{batches: […]}`), and Jaeger's classic
 * `/api/traces` JSON. All become one list of NormalizedSpan, sorted by start. Everything read from the backend is
 * untrusted: unknown shapes are an error with a reason, never a crash, and at most `maxSpans` spans are kept.
 */

export interface NormalizedEvent {
  name: string;
  /** Unix nanoseconds as a decimal string (beyond 2^53). */
  time_unix_ns: string;
  attributes: Record<string, unknown>;
}

export interface NormalizedSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  service: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified';
  start_unix_ns: string;
  end_unix_ns: string;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  attributes: Record<string, unknown>;
  events: NormalizedEvent[];
}

export interface NormalizedTrace {
  spans: NormalizedSpan[];
  /** True when the backend returned more than `maxSpans` spans (the first ones by start time are kept). */
  truncated: boolean;
  total_spans: number;
}

export class TraceFormatError extends Error {}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

const HEX = /^[0-9a-f]+$/;
const ZEROS = /^0+$/;
const DECIMAL = /^\d{1,20}$/;

/** An OTLP id: hex (the OTLP JSON spec) or base64 (protobuf's JSON mapping, used by Jaeger's gRPC gateway and Tempo). */
export function otlpId(value: unknown, bytes: 8 | 16): string | null {
  // The common case first: lowercase hex of the right length (OTLP JSON as Jaeger v3 and exporters write it).
  if (typeof value === 'string' && value.length === bytes * 2 && HEX.test(value))
    return ZEROS.test(value) ? null : value;
  const text = str(value).trim();
  if (text === '') return null;
  const lower = text.toLowerCase();
  if (lower.length === bytes * 2 && HEX.test(lower)) return /^0+$/.test(lower) ? null : lower;
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const raw = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (raw.length === bytes) {
      const hex = raw.toString('hex');
      return /^0+$/.test(hex) ? null : hex;
    }
  }
  return null;
}

/** int64 nanoseconds as a decimal string, from a JSON string or number; null when unreadable. */
function nanos(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0)
    return BigInt(Math.round(value)).toString();
  if (typeof value !== 'string') return null;
  const text = DECIMAL.test(value) ? value : value.trim();
  // Anything but digits (an empty string, "x") is unreadable: such a start once reached BigInt() and threw.
  if (!DECIMAL.test(text)) return null;
  // Canonical decimal (no leading zeros), so times order by length then text, without a BigInt per span.
  return text.length > 1 && text.charCodeAt(0) === 48 ? text.replace(/^0+(?=\d)/, '') : text;
}

/** a < b for canonical decimal strings. */
const decimalLess = (a: string, b: string): boolean => (a.length !== b.length ? a.length < b.length : a < b);

/** An OTLP AnyValue as plain JSON. */
function anyValue(v: unknown, depth = 0): unknown {
  if (!isObject(v) || depth > 8) return null;
  if ('stringValue' in v) return str(v.stringValue);
  if ('boolValue' in v) return v.boolValue === true;
  if ('intValue' in v) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : str(v.intValue);
  }
  if ('doubleValue' in v) return typeof v.doubleValue === 'number' ? v.doubleValue : Number(v.doubleValue);
  if ('bytesValue' in v) return str(v.bytesValue);
  if (isObject(v.arrayValue)) return arrayOf(v.arrayValue.values).map((x) => anyValue(x, depth + 1));
  if (isObject(v.kvlistValue)) return keyValues(v.kvlistValue.values, depth + 1);
  return null;
}

function keyValues(list: unknown, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list) {
    if (!isObject(kv) || typeof kv.key !== 'string') continue;
    // A plain object keyed by untrusted strings: `__proto__` must become an own property, never the prototype.
    if (kv.key === '__proto__')
      Object.defineProperty(out, kv.key, {
        value: anyValue(kv.value, depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[kv.key] = anyValue(kv.value, depth);
  }
  return out;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
function kindOf(v: unknown): NormalizedSpan['kind'] {
  if (typeof v === 'number') return KINDS[v] ?? 'unspecified';
  const name = str(v)
    .toLowerCase()
    .replace(/^span_kind_/, '');
  return (KINDS as readonly string[]).includes(name) ? (name as NormalizedSpan['kind']) : 'unspecified';
}

function statusOf(v: unknown): NormalizedSpan['status'] {
  if (!isObject(v)) return { code: 'unset' };
  const c = v.code;
  const name =
    typeof c === 'number'
      ? ''
      : str(c)
          .toLowerCase()
          .replace(/^status_code_/, '');
  const code = c === 2 || name === 'error' ? 'error' : c === 1 || name === 'ok' ? 'ok' : 'unset';
  const message = str(v.message);
  return message ? { code, message } : { code };
}

/** The `resourceSpans` list of any OTLP-JSON answer, envelope or not; null when the body is not OTLP. */
function resourceSpansOf(body: unknown): unknown[] | null {
  if (!isObject(body)) return null;
  if (Array.isArray(body.resourceSpans)) return body.resourceSpans;
  if (Array.isArray(body.batches)) return body.batches; // Tempo v1
  for (const key of ['result', 'trace'] as const) {
    const inner = body[key];
    if (isObject(inner) && Array.isArray(inner.resourceSpans)) return inner.resourceSpans;
  }
  return null;
}

/** OTLP's scopeSpans, and instrumentationLibrarySpans of older exporters. */
function scopesOf(rs: Json): unknown[] {
  const a = arrayOf(rs.scopeSpans);
  const b = arrayOf(rs.instrumentationLibrarySpans);
  return b.length === 0 ? a : a.length === 0 ? b : [...a, ...b];
}

function eventsOf(list: unknown, start: string): NormalizedEvent[] {
  if (!Array.isArray(list) || list.length === 0) return [];
  const out: NormalizedEvent[] = [];
  for (const e of list)
    if (isObject(e))
      out.push({
        name: str(e.name),
        time_unix_ns: nanos(e.timeUnixNano) ?? start,
        attributes: keyValues(e.attributes),
      });
  return out;
}

/** The service.name of an OTLP resourceSpans element ('unknown' without one). */
function serviceOfResourceSpans(rs: unknown): string {
  if (!isObject(rs) || !isObject(rs.resource)) return 'unknown';
  return str(keyValues(rs.resource.attributes)['service.name']) || 'unknown';
}

/** One OTLP span object → a NormalizedSpan, or null when it lacks a readable trace id, span id or start. */
function spanFromOtlp(sp: unknown, service: string): NormalizedSpan | null {
  if (!isObject(sp)) return null;
  const traceId = otlpId(sp.traceId, 16);
  const spanId = otlpId(sp.spanId, 8);
  const start = nanos(sp.startTimeUnixNano);
  if (!traceId || !spanId || start === null) return null;
  const end = nanos(sp.endTimeUnixNano) ?? start;
  return {
    trace_id: traceId,
    span_id: spanId,
    parent_span_id: otlpId(sp.parentSpanId, 8),
    name: str(sp.name) || '(unnamed)',
    service,
    kind: kindOf(sp.kind),
    start_unix_ns: start,
    end_unix_ns: decimalLess(end, start) ? start : end,
    status: statusOf(sp.status),
    attributes: keyValues(sp.attributes),
    events: eventsOf(sp.events, start),
  };
}

/** The span lists of one resourceSpans element (scopeSpans, then the older instrumentationLibrarySpans). */
function spanListsOf(rs: unknown): unknown[][] {
  if (!isObject(rs)) return [];
  const lists: unknown[][] = [];
  for (const ss of scopesOf(rs)) if (isObject(ss) && Array.isArray(ss.spans)) lists.push(ss.spans);
  return lists;
}

function fromOtlp(resourceSpans: unknown[], sink: (s: NormalizedSpan) => void): void {
  for (const rs of resourceSpans) {
    if (!isObject(rs)) continue;
    const service = serviceOfResourceSpans(rs);
    for (const list of spanListsOf(rs))
      for (const sp of list) {
        const span = spanFromOtlp(sp, service);
        if (span) sink(span);
      }
  }
}

/** Jaeger's classic `/api/traces/{id}`: `{data: [{spans, processes}]}`, microsecond times, tags and logs. */
function fromJaegerClassic(data: unknown[], sink: (s: NormalizedSpan) => void): void {
  const tagsOf = (list: unknown): Record<string, unknown> =>
    Object.fromEntries(
      arrayOf(list)
        .filter((t): t is Json => isObject(t) && typeof t.key === 'string')
        .map((t) => [t.key as string, t.value ?? null]),
    );
  const micros = (v: unknown) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 ? BigInt(Math.round(v)) * 1000n : null;
  for (const trace of data) {
    if (!isObject(trace)) continue;
    const processes = isObject(trace.processes) ? trace.processes : {};
    for (const sp of arrayOf(trace.spans)) {
      if (!isObject(sp)) continue;
      const traceId = otlpId(str(sp.traceID).padStart(32, '0'), 16);
      const spanId = otlpId(str(sp.spanID).padStart(16, '0'), 8);
      const start = micros(sp.startTime);
      if (!traceId || !spanId || start === null) continue;
      const duration = micros(sp.duration) ?? 0n;
      const parentRef = arrayOf(sp.references).find((r) => isObject(r) && r.refType === 'CHILD_OF');
      const tags = tagsOf(sp.tags);
      const process = processes[str(sp.processID)];
      const error =
        tags.error === true ||
        tags.error === 'true' ||
        str(tags['otel.status_code']).toUpperCase() === 'ERROR';
      const message = str(tags['otel.status_description']);
      sink({
        trace_id: traceId,
        span_id: spanId,
        parent_span_id: isObject(parentRef) ? otlpId(str(parentRef.spanID).padStart(16, '0'), 8) : null,
        name: str(sp.operationName) || '(unnamed)',
        service: (isObject(process) && str(process.serviceName)) || 'unknown',
        kind: kindOf(tags['span.kind']),
        start_unix_ns: start.toString(),
        end_unix_ns: (start + duration).toString(),
        status: error
          ? message
            ? { code: 'error', message }
            : { code: 'error' }
          : str(tags['otel.status_code']).toUpperCase() === 'OK'
            ? { code: 'ok' }
            : { code: 'unset' },
        attributes: tags,
        events: arrayOf(sp.logs)
          .filter(isObject)
          .map((l) => {
            const fields = tagsOf(l.fields);
            return {
              name: str(fields.event) || 'log',
              time_unix_ns: (micros(l.timestamp) ?? start).toString(),
              attributes: fields,
            };
          }),
      });
    }
  }
}

/** Any supported backend answer → spans of `traceId` (others dropped), sorted by start, at most `maxSpans`. */
export function normalizeTrace(body: unknown, traceId: string, maxSpans: number): NormalizedTrace {
  const spans: NormalizedSpan[] = [];
  const sink = (s: NormalizedSpan) => {
    if (s.trace_id === traceId) spans.push(s);
  };
  const otlp = resourceSpansOf(body);
  if (otlp) fromOtlp(otlp, sink);
  else if (isObject(body) && Array.isArray(body.data)) fromJaegerClassic(body.data, sink);
  else
    throw new TraceFormatError('the trace backend answered JSON that is neither OTLP nor Jaeger trace JSON');
  return finishTrace(spans, maxSpans);
}

/** Spans of one trace → sorted by start, at most `maxSpans` kept (`spans` is sorted in place). */
function finishTrace(spans: NormalizedSpan[], maxSpans: number): NormalizedTrace {
  // Decimal strings without leading zeros order by length, then lexically: no BigInt per comparison.
  spans.sort((a, b) => {
    const x = a.start_unix_ns;
    const y = b.start_unix_ns;
    return x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0;
  });
  const total = spans.length;
  return { spans: spans.slice(0, maxSpans), truncated: total > maxSpans, total_spans: total };
}
