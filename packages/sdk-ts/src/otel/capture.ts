import type { OtelBlock } from '../wire.js';

/**
 * The parts of an OpenTelemetry `SpanContext` the capture reads. Declared structurally so the SDK's types
 * never require `@opentelemetry/api` to be installed.
 */
export interface SpanContextLike {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: { serialize(): string } | undefined;
}

const INVALID_TRACE_ID = '00000000000000000000000000000000';
const INVALID_SPAN_ID = '0000000000000000';
const SAMPLED = 0x01;

// Two lowercase hex digits per flags byte, computed once: capture runs on every log call and must stay cheap.
const FLAGS_HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * TRACE_CONTEXT.md §1 as a pure function: the otel block for a span context, or `undefined` for "no block".
 * Invalid contexts (zero ids, wrong lengths) are never attached; the flags byte is kept verbatim (never forced to
 * `01`); tracestate only when non-empty; with `respectSampled` an unsampled span gives no block.
 */
export function otelBlockFromSpanContext(
  spanContext: SpanContextLike,
  respectSampled = false,
): OtelBlock | undefined {
  const { traceId, spanId } = spanContext;
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  // Length only, no per-character hex check: that would triple the cost of every capture, OTel SDKs and the W3C
  // propagator only produce lowercase hex, and the server validates the block anyway (a bad one becomes a
  // warning, never a failed episode).
  if (traceId.length !== 32 || spanId.length !== 16) return undefined;
  const flags = spanContext.traceFlags & 0xff;
  if (respectSampled && (flags & SAMPLED) === 0) return undefined;
  const block: OtelBlock = {
    trace_id: traceId,
    span_id: spanId,
    traceparent: `00-${traceId}-${spanId}-${FLAGS_HEX[flags]}`,
  };
  const tracestate = spanContext.traceState?.serialize();
  if (tracestate) block.tracestate = tracestate;
  return block;
}
