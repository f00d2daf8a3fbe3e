import { isAscii, isUtf8 } from 'node:buffer';
import { transcodeCompact } from './otlp-compact.js';
import type { SpanSegments } from './span-list.js';

export type TranscodedTrace = SpanSegments;

/**
 * OTLP JSON text → the API's span JSON, without building the backend's objects. JSON.parse of a 5,000-span answer
 * (1.7 MB) and normalising the objects took longer than the budget the span lane has after the backend's own
 * answer (bench/trace/run.ts); the compact layout OTLP's JSON marshaller writes (Jaeger v2, the Collector, Tempo
 * v2's envelope) is read here once, in WebAssembly (otlp-compact.ts, wasm/otlp_compact.c), and the normalised
 * spans written as it goes. null for anything else — another layout, bytes that are not UTF-8 (JSON.parse of their
 * text would hold replacement characters), an all-zero trace id (no id, says otlpId) — and the caller parses and
 * normalises the answer as objects (normalize.ts). The result must be exactly what `normalizeTrace` gives:
 * test/unit/trace-source/otlp-transcode.test.ts compares them on generated answers of every shape.
 */
export function transcodeOtlp(body: Buffer, traceId: string, maxSpans: number): TranscodedTrace | null {
  if ((!isAscii(body) && !isUtf8(body)) || /^0+$/.test(traceId)) return null;
  return transcodeCompact(body, traceId, maxSpans);
}
