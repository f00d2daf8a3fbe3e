import type { OtelBlock } from '../wire.js';
import { type OtelApiLike, otelApi, type SpanLike } from './api.js';
import { otelBlockFromSpanContext } from './capture.js';

export interface CapturedTrace {
  block: OtelBlock;
  /** Kept only for the optional back-link attributes. */
  span: SpanLike;
}

/**
 * The otel block of the span active right now, or undefined: no OTel installed, no active span, an invalid or
 * (with respectSampled) unsampled span. Anything OTel throws is swallowed: tracing must never break a run.
 */
export function captureActiveSpan(
  respectSampled: boolean,
  api: OtelApiLike | null = otelApi(),
): CapturedTrace | undefined {
  if (api === null) return undefined;
  try {
    const span = api.trace.getActiveSpan();
    if (span === undefined) return undefined;
    const block = otelBlockFromSpanContext(span.spanContext(), respectSampled);
    return block ? { block, span } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The trace block the SDK would attach right now (like the Python SDK's `capture_trace_context()`), or
 * undefined when there is none.
 */
export function captureTraceContext(options: { respectSampled?: boolean } = {}): OtelBlock | undefined {
  return captureActiveSpan(options.respectSampled ?? false)?.block;
}

/** Opt-in back-link: mark the span with the episode it produced, if that span is still recording. */
export function linkSpanToEpisode(span: SpanLike, episodeId: string, episodeUrl: string): void {
  try {
    if (!span.isRecording()) return;
    span.setAttribute('robotrace.episode_id', episodeId);
    span.setAttribute('robotrace.episode_url', episodeUrl);
  } catch {
    // Same rule as capture: an OTel failure never reaches the caller.
  }
}
