import { setTimeout as delay } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureActiveSpan, captureTraceContext } from '../../src/otel/active.js';
import { otelBlockFromSpanContext } from '../../src/otel/capture.js';
import { installContextManager, withRemoteSpanContext, withSpan } from '../support/otel.js';
import { type CaptureCase, vectors } from '../support/vectors.js';

const cases = vectors.capture.cases;
const expected = (c: CaptureCase) => c.expect ?? undefined;
// The SDK tracer only produces flags 00/01 (its samplers decide the sampled bit alone).
const tracerCases = cases.filter((c) => c.span_context.trace_flags <= 1);

beforeAll(installContextManager);

describe('capture vectors (TRACE_CONTEXT.md §1)', () => {
  it('has cases to run', () => {
    expect(cases.length).toBeGreaterThan(0);
    expect(tracerCases.length).toBeGreaterThan(0);
  });

  it.each(cases.map((c) => [c.name, c] as const))('pure function: %s', (_name, c) => {
    const spanContext = {
      traceId: c.span_context.trace_id,
      spanId: c.span_context.span_id,
      traceFlags: c.span_context.trace_flags,
      traceState: { serialize: () => c.span_context.trace_state },
    };
    expect(otelBlockFromSpanContext(spanContext, c.respect_sampled ?? false)).toEqual(expected(c));
  });

  it.each(tracerCases.map((c) => [c.name, c] as const))(
    'span started by a real BasicTracerProvider, before and after an await: %s',
    async (_name, c) => {
      await withSpan(c.span_context, async () => {
        const options = { respectSampled: c.respect_sampled ?? false };
        expect(captureTraceContext(options)).toEqual(expected(c));
        await delay(1);
        expect(captureTraceContext(options)).toEqual(expected(c));
      });
    },
  );

  it.each(cases.map((c) => [c.name, c] as const))(
    'span context made active through the OTel API (as a propagator does): %s',
    async (_name, c) => {
      await withRemoteSpanContext(c.span_context, async () => {
        await delay(1);
        expect(captureTraceContext({ respectSampled: c.respect_sampled ?? false })).toEqual(expected(c));
      });
    },
  );

  it('attaches nothing when no span is active', () => {
    expect(captureTraceContext()).toBeUndefined();
  });

  it('swallows anything OTel throws: the run goes on without a block', () => {
    const brokenSpan = {
      spanContext: () => {
        throw new Error('broken span');
      },
      isRecording: () => true,
      setAttribute: () => undefined,
    };
    expect(captureActiveSpan(false, { trace: { getActiveSpan: () => brokenSpan } })).toBeUndefined();
    const brokenApi = {
      trace: {
        getActiveSpan: (): undefined => {
          throw new Error('no context manager');
        },
      },
    };
    expect(captureActiveSpan(false, brokenApi)).toBeUndefined();
  });

  it('attaches nothing when OpenTelemetry is not installed', () => {
    expect(captureActiveSpan(false, null)).toBeUndefined();
  });
});
