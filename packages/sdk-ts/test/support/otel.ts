import { context, createTraceState, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type Sampler, SamplingDecision } from '@opentelemetry/sdk-trace-base';
import type { CaptureCase } from './vectors.js';

/**
 * A real OpenTelemetry SDK tracer whose next span gets the ids, flags and tracestate we choose, with the
 * async-hooks context manager registered globally (as an instrumented Node app has it).
 */
let next: CaptureCase['span_context'] = {
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  span_id: '00f067aa0ba902b7',
  trace_flags: 1,
  trace_state: '',
};

const sampler: Sampler = {
  shouldSample: () => ({
    decision: (next.trace_flags & 1) === 1 ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.RECORD,
    ...(next.trace_state ? { traceState: createTraceState(next.trace_state) } : {}),
  }),
  toString: () => 'VectorSampler',
};

const provider = new BasicTracerProvider({
  sampler,
  idGenerator: { generateTraceId: () => next.trace_id, generateSpanId: () => next.span_id },
});

export const tracer = provider.getTracer('robotrace-sdk-tests');

let installed = false;
export function installContextManager(): void {
  if (installed) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  installed = true;
}

/** Starts a real span with these exact ids, flags and tracestate, active while `fn` runs (across awaits). */
export function withSpan<T>(
  spanContext: CaptureCase['span_context'],
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  next = spanContext;
  return tracer.startActiveSpan('rollout', async (span) => {
    try {
      return await fn(span);
    } finally {
      span.end();
    }
  });
}

/** Makes a span context active as-is (what a propagator does with an incoming traceparent). */
export function withRemoteSpanContext<T>(
  spanContext: CaptureCase['span_context'],
  fn: () => Promise<T>,
): Promise<T> {
  const wrapped = trace.wrapSpanContext({
    traceId: spanContext.trace_id,
    spanId: spanContext.span_id,
    traceFlags: spanContext.trace_flags,
    ...(spanContext.trace_state ? { traceState: createTraceState(spanContext.trace_state) } : {}),
  });
  return context.with(trace.setSpan(context.active(), wrapped), fn);
}
