import { createRequire } from 'node:module';

/** The slice of `@opentelemetry/api` the SDK uses, typed structurally (the package is an optional peer). */
export interface SpanLike {
  spanContext(): {
    traceId: string;
    spanId: string;
    traceFlags: number;
    traceState?: { serialize(): string } | undefined;
  };
  isRecording(): boolean;
  setAttribute(key: string, value: string): unknown;
}

export interface OtelApiLike {
  trace: { getActiveSpan(): SpanLike | undefined };
}

let cached: OtelApiLike | null | undefined;

/**
 * Loads `@opentelemetry/api` on first use if the application has it installed, else remembers that it has not.
 * A synchronous `require` (the API ships a CommonJS build) keeps capture synchronous, so it happens exactly at
 * the call and without a top-level await. The API keeps its registered context manager on a process-wide global,
 * so this copy sees the spans the application started through its own import.
 */
export function otelApi(): OtelApiLike | null {
  if (cached === undefined) {
    try {
      const required = createRequire(import.meta.url)('@opentelemetry/api') as Partial<OtelApiLike>;
      cached = typeof required.trace?.getActiveSpan === 'function' ? (required as OtelApiLike) : null;
    } catch {
      cached = null;
    }
  }
  return cached;
}
