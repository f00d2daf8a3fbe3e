import type { OtelBlock } from '@robotrace/contracts';

/** W3C Trace Context validation and normalisation of the otel block sent with an episode (TRACE_CONTEXT.md §2). */

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const HEX2 = /^[0-9a-f]{2}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
const TRACESTATE_MAX_CHARS = 512;
const TRACESTATE_MAX_MEMBERS = 32;
const SIMPLE_KEY = /^[a-z][_0-9a-z\-*/]{0,255}$/;
const TENANT_KEY = /^[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13}$/;
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

export const isTraceId = (s: unknown): s is string =>
  typeof s === 'string' && TRACE_ID.test(s) && s !== ZERO_TRACE;
export const isSpanId = (s: unknown): s is string =>
  typeof s === 'string' && SPAN_ID.test(s) && s !== ZERO_SPAN;

export interface ParsedTraceparent {
  version: string;
  traceId: string;
  spanId: string;
  flags: string;
}

/** Parses a traceparent header value strictly (lowercase, version rules); null when invalid. */
export function parseTraceparent(value: string): ParsedTraceparent | null {
  if (value.length < 55) return null;
  const [version, traceId, spanId, flags] = value.slice(0, 55).split('-');
  if (version === undefined || traceId === undefined || spanId === undefined || flags === undefined)
    return null;
  if (!HEX2.test(version) || version === 'ff') return null;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return null;
  if (version === '00' && value.length !== 55) return null;
  // A higher version may append fields, each introduced by '-'.
  if (value.length > 55 && value[55] !== '-') return null;
  if (!isTraceId(traceId) || !isSpanId(spanId) || !HEX2.test(flags)) return null;
  return { version, traceId, spanId, flags };
}

/** True when the tracestate list is valid per W3C (keys, values, members, length, no duplicate keys). */
export function isValidTracestate(value: string): boolean {
  if (value.length > TRACESTATE_MAX_CHARS) return false;
  const keys = new Set<string>();
  for (const raw of value.split(',')) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (member === '') continue; // empty list members are allowed
    const eq = member.indexOf('=');
    if (eq <= 0) return false;
    const key = member.slice(0, eq);
    const val = member.slice(eq + 1);
    if (!(SIMPLE_KEY.test(key) || TENANT_KEY.test(key)) || !VALUE.test(val) || keys.has(key)) return false;
    keys.add(key);
  }
  return keys.size <= TRACESTATE_MAX_MEMBERS;
}

export interface NormalizedOtel {
  block: OtelBlock | null;
  warnings: string[];
}

const dropped = (why: string): NormalizedOtel => ({
  block: null,
  warnings: [`otel block ignored: ${why}; the episode was stored without trace context`],
});

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates one candidate block. Unknown fields are dropped; a bad tracestate is dropped alone. */
export function normalizeOtelBlock(candidate: unknown): NormalizedOtel {
  if (!isPlainObject(candidate)) return dropped('expected an object with trace_id, span_id and traceparent');
  const { trace_id: traceId, span_id: spanId, traceparent, tracestate } = candidate;
  let block: OtelBlock;
  if (traceparent !== undefined && traceparent !== null) {
    if (typeof traceparent !== 'string') return dropped('traceparent must be a string');
    const parsed = parseTraceparent(traceparent);
    if (!parsed) return dropped('traceparent is not a valid W3C traceparent');
    if (traceId !== undefined && traceId !== null && traceId !== parsed.traceId)
      return dropped('trace_id does not match the traceparent');
    if (spanId !== undefined && spanId !== null && spanId !== parsed.spanId)
      return dropped('span_id does not match the traceparent');
    block = { trace_id: parsed.traceId, span_id: parsed.spanId, traceparent };
  } else {
    if (!isTraceId(traceId)) return dropped('trace_id must be 32 lowercase hex characters, not all zeros');
    if (!isSpanId(spanId)) return dropped('span_id must be 16 lowercase hex characters, not all zeros');
    block = { trace_id: traceId, span_id: spanId };
  }
  const warnings: string[] = [];
  if (tracestate !== undefined && tracestate !== null && tracestate !== '') {
    if (typeof tracestate === 'string' && isValidTracestate(tracestate)) block.tracestate = tracestate;
    else warnings.push('otel.tracestate ignored: not a valid W3C tracestate; the trace ids were kept');
  }
  return { block, warnings };
}

/**
 * Decides the episode's block from the create body: an explicit `metadata.otel` wins over the top-level
 * `otel` the SDK captured (`null` suppresses it). Returns the metadata to store (its `otel` key replaced by
 * the normalised block, or removed) and warnings for a rejected block — never an error.
 */
export function resolveEpisodeOtel(
  topLevel: unknown,
  metadata: Record<string, unknown> | null | undefined,
): NormalizedOtel & { metadata: Record<string, unknown> } {
  const rest: Record<string, unknown> = { ...(metadata ?? {}) };
  const explicit = Object.hasOwn(rest, 'otel');
  const candidate = explicit ? rest.otel : topLevel;
  delete rest.otel;
  if (candidate === undefined || candidate === null) return { block: null, warnings: [], metadata: rest };
  const normalized = normalizeOtelBlock(candidate);
  if (normalized.block) rest.otel = normalized.block;
  return { ...normalized, metadata: rest };
}

/** The sampled bit of the stored traceparent's flags; null when there is no traceparent. */
export function isSampled(block: OtelBlock): boolean | null {
  if (!block.traceparent) return null;
  const flags = Number.parseInt(block.traceparent.slice(53, 55), 16);
  return Number.isNaN(flags) ? null : (flags & 1) === 1;
}
