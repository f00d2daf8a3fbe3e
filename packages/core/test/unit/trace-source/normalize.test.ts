import { describe, expect, it } from 'vitest';
import { normalizeTrace, otlpId, TraceFormatError } from '../../../src/trace-source/normalize.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const ROOT = '00f067aa0ba902b7';
const CHILD = 'b7ad6b7169203331';
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

function otlp(ids: (hex: string) => string) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'robot-runtime' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: ids(TRACE),
                spanId: ids(CHILD),
                parentSpanId: ids(ROOT),
                name: 'policy.infer',
                kind: 'SPAN_KIND_CLIENT',
                startTimeUnixNano: '1796000000180000000',
                endTimeUnixNano: '1796000000360000000',
                status: { code: 'STATUS_CODE_ERROR', message: 'deadline exceeded' },
                attributes: [
                  { key: 'model', value: { stringValue: 'pi-0.3.1' } },
                  { key: 'batch', value: { intValue: '8' } },
                  { key: 'big', value: { intValue: '9007199254740993' } },
                  { key: '__proto__', value: { stringValue: 'x' } },
                  { key: 'dims', value: { arrayValue: { values: [{ intValue: 3 }, { doubleValue: 0.5 }] } } },
                ],
                events: [
                  {
                    name: 'retry',
                    timeUnixNano: '1796000000200000000',
                    attributes: [{ key: 'attempt', value: { intValue: 2 } }],
                  },
                ],
              },
              {
                traceId: ids(TRACE),
                spanId: ids(ROOT),
                name: 'rollout',
                kind: 2,
                startTimeUnixNano: 1796000000000000000,
                endTimeUnixNano: '1796000001000000000',
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('trace normalisation', () => {
  it('reads OTLP JSON with hex ids and int64 times as strings, sorted by start', () => {
    const { spans, truncated } = normalizeTrace(
      otlp((h) => h),
      TRACE,
      100,
    );
    expect(truncated).toBe(false);
    expect(spans.map((s) => s.name)).toEqual(['rollout', 'policy.infer']);
    const [root, child] = spans;
    expect(root).toMatchObject({
      span_id: ROOT,
      parent_span_id: null,
      kind: 'server',
      service: 'robot-runtime',
      status: { code: 'unset' },
    });
    expect(child).toMatchObject({
      parent_span_id: ROOT,
      kind: 'client',
      start_unix_ns: '1796000000180000000',
      end_unix_ns: '1796000000360000000',
      status: { code: 'error', message: 'deadline exceeded' },
      events: [{ name: 'retry', time_unix_ns: '1796000000200000000', attributes: { attempt: 2 } }],
    });
    expect(child?.attributes).toMatchObject({
      model: 'pi-0.3.1',
      batch: 8,
      big: '9007199254740993',
      dims: [3, 0.5],
    });
    expect(Object.getPrototypeOf(child?.attributes)).toBe(Object.prototype);
    expect(Object.keys(child?.attributes ?? {})).toContain('__proto__');
  });

  it('reads base64 ids (protobuf JSON) inside the Jaeger v3 and Tempo envelopes the same way', () => {
    const plain = normalizeTrace(
      otlp((h) => h),
      TRACE,
      100,
    );
    expect(normalizeTrace({ result: otlp(b64) }, TRACE, 100)).toEqual(plain);
    expect(normalizeTrace({ trace: otlp(b64) }, TRACE, 100)).toEqual(plain);
    expect(normalizeTrace({ batches: otlp(b64).resourceSpans }, TRACE, 100)).toEqual(plain);
  });

  it("reads Jaeger's classic JSON (microseconds, references, tags, logs, processes)", () => {
    const body = {
      data: [
        {
          traceID: TRACE,
          processes: { p1: { serviceName: 'camera' } },
          spans: [
            {
              traceID: TRACE,
              spanID: CHILD,
              operationName: 'sensor.fetch',
              references: [{ refType: 'CHILD_OF', traceID: TRACE, spanID: ROOT }],
              startTime: 1796000000180000,
              duration: 2500,
              processID: 'p1',
              tags: [
                { key: 'error', type: 'bool', value: true },
                { key: 'span.kind', type: 'string', value: 'client' },
              ],
              logs: [
                { timestamp: 1796000000181000, fields: [{ key: 'event', type: 'string', value: 'frame' }] },
              ],
            },
          ],
        },
      ],
    };
    const [s] = normalizeTrace(body, TRACE, 10).spans;
    expect(s).toMatchObject({
      parent_span_id: ROOT,
      service: 'camera',
      kind: 'client',
      start_unix_ns: '1796000000180000000',
      end_unix_ns: '1796000000182500000',
      status: { code: 'error' },
      events: [{ name: 'frame', time_unix_ns: '1796000000181000000' }],
    });
  });

  it('drops spans without ids or times and spans of other traces; a missing parent is null', () => {
    const body = otlp((h) => h);
    const spans = body.resourceSpans[0]?.scopeSpans[0]?.spans as unknown[];
    spans.push(
      { traceId: TRACE, spanId: 'zz', startTimeUnixNano: '1' },
      { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), startTimeUnixNano: '5' },
      { traceId: TRACE, spanId: '11'.repeat(8), parentSpanId: '' },
      // A start that is no decimal is no start (it once came through as "" or "x" and broke BigInt later).
      { traceId: TRACE, spanId: '22'.repeat(8), startTimeUnixNano: '' },
      { traceId: TRACE, spanId: '33'.repeat(8), startTimeUnixNano: 'x' },
    );
    expect(normalizeTrace(body, TRACE, 100).spans).toHaveLength(2);
  });

  it('keeps the first spans by start time and says it truncated', () => {
    const r = normalizeTrace(
      otlp((h) => h),
      TRACE,
      1,
    );
    expect(r).toMatchObject({ truncated: true, total_spans: 2 });
    expect(r.spans.map((s) => s.name)).toEqual(['rollout']);
  });

  it('refuses JSON that is no trace, with a reason', () => {
    expect(() => normalizeTrace({ hello: 'world' }, TRACE, 10)).toThrow(TraceFormatError);
    expect(() => normalizeTrace([1, 2], TRACE, 10)).toThrow(/neither OTLP nor Jaeger/);
  });

  it('reads ids: hex of the right length, base64 of the right byte count, never all zeros', () => {
    expect(otlpId(ROOT.toUpperCase(), 8)).toBe(ROOT);
    expect(otlpId(b64(TRACE), 16)).toBe(TRACE);
    expect(otlpId('0'.repeat(32), 16)).toBeNull();
    expect(otlpId(b64(ROOT), 16)).toBeNull();
    expect(otlpId(undefined, 8)).toBeNull();
  });
});
