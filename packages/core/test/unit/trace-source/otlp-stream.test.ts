import { describe, expect, it } from 'vitest';
import { normalizeTrace } from '../../../src/trace-source/normalize.js';
import { OtlpStreamParser } from '../../../src/trace-source/otlp-stream.js';

// Parsing while the body arrives must answer exactly what normalizeTrace answers on the whole body, however the
// body is cut into chunks — and must actually parse runs of spans early on the shape Jaeger and exporters write.
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const OTHER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const id16 = (i: number) => (i + 1).toString(16).padStart(16, '0');

const span = (i: number, over: Record<string, unknown> = {}) => ({
  traceId: TRACE,
  spanId: id16(i),
  parentSpanId: i === 0 ? undefined : id16(0),
  name: 'policy.infer',
  kind: 'SPAN_KIND_CLIENT',
  startTimeUnixNano: String(1796000000000000000n + BigInt(i) * 1000n),
  endTimeUnixNano: String(1796000000000000000n + BigInt(i) * 1000n + 500n),
  attributes: [{ key: 'step', value: { intValue: String(i) } }],
  ...over,
});
const resource = (service: string, spans: unknown[]) => ({
  resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
  scopeSpans: [{ scope: { name: 'x' }, spans }],
});

/** Hostile text and odd shapes: quotes, braces and the span-start text itself inside strings, links, base64. */
const tricky = {
  resourceSpans: [
    resource('robot "runtime" \\ {x}', [
      span(0, { name: 'a "quoted" },{"traceId":" name\\' }),
      span(1, {
        links: [
          { traceId: OTHER_TRACE, spanId: id16(9) },
          { traceId: TRACE, spanId: id16(8) },
        ],
      }),
      span(2, { traceId: b64(TRACE), spanId: b64(id16(2)) }),
      span(3, { traceId: OTHER_TRACE }),
      span(4, { events: [{ name: 'e},{"traceId":"', timeUnixNano: '1796000000000000100' }] }),
      span(5),
      7,
      span(6),
    ]),
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'policy-server' } }] },
      scopeSpans: [{ spans: [span(10), span(11), span(12)] }],
      instrumentationLibrarySpans: [{ spans: [span(13), span(14)] }],
    },
    { scopeSpans: [{ spans: [span(20)] }] },
  ],
};

/** As TraceSource reads a body: chunks pushed, then finish; 'whole' means the whole-body path. */
function parse(text: string, cuts: number[], maxSpans = 100) {
  const bytes = Buffer.from(text);
  const p = new OtlpStreamParser(TRACE);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    p.push(bytes.subarray(at, cut));
    at = cut;
  }
  const early = p.finish(maxSpans);
  const trace = early === 'whole' ? normalizeTrace(JSON.parse(text), TRACE, maxSpans) : early;
  return { trace, early: p.earlySpans, whole: early === 'whole' };
}

describe('OTLP JSON parsed while it arrives', () => {
  for (const [name, body] of [
    ['plain', tricky],
    ["Jaeger v3's result envelope", { result: tricky }],
    ["Tempo v2's trace envelope", { trace: tricky }],
    ['Tempo v1 batches', { batches: tricky.resourceSpans }],
  ] as const) {
    it(`${name}: the whole-body answer, cut anywhere; runs of spans parsed early`, () => {
      const text = JSON.stringify(body);
      const want = normalizeTrace(JSON.parse(text), TRACE, 100);
      expect(want.total_spans).toBe(12);
      expect(parse(text, []).trace).toEqual(want);
      for (let cut = 1; cut < text.length; cut++) expect(parse(text, [cut]).trace).toEqual(want);
      const bytewise = parse(
        text,
        Array.from({ length: text.length - 1 }, (_, i) => i + 1),
      );
      expect(bytewise.trace).toEqual(want);
      // Indented JSON has no `{"traceId":"` runs: the same answer, all of it at the end.
      const indented = JSON.stringify(body, null, 1);
      expect(parse(indented, [100, 200]).trace).toEqual(want);
    });
  }

  it("parses Jaeger's usual shape early: every span but each list's last, while chunks arrive", () => {
    const text = JSON.stringify({
      result: {
        resourceSpans: [
          resource(
            'r',
            Array.from({ length: 20 }, (_, i) => span(i)),
          ),
        ],
      },
    });
    const chunked = parse(text, [300, 900, 2000]);
    expect(chunked.trace).toEqual(normalizeTrace(JSON.parse(text), TRACE, 100));
    expect(chunked.early).toBe(19);
    expect(chunked.whole).toBe(false);
  });

  it('a run in the wrong place (spans inside links) still gives what the backend sent', () => {
    const odd = {
      resourceSpans: [resource('r', [span(0, { links: [span(1), span(2), span(3)] }), span(4)])],
    };
    const text = JSON.stringify(odd);
    expect(parse(text, [50]).trace).toEqual(normalizeTrace(JSON.parse(text), TRACE, 100));
  });

  it('keeps the first spans by start and says truncated, like the whole-body path', () => {
    const many = {
      resourceSpans: [
        resource(
          'r',
          Array.from({ length: 50 }, (_, i) => span(49 - i)),
        ),
      ],
    };
    const text = JSON.stringify(many);
    expect(parse(text, [333], 10).trace).toEqual(normalizeTrace(JSON.parse(text), TRACE, 10));
  });

  it('invalid JSON anywhere is null (the caller answers "not JSON"); JSON that is no trace throws like normalizeTrace', () => {
    const good = JSON.stringify(tricky);
    for (const text of [
      good.slice(0, -1),
      good.slice(0, good.length / 2),
      `${good} x`,
      good.replace('"kind":"SPAN_KIND_CLIENT"', '"kind":SPAN_KIND_CLIENT'),
      good.replace('"scope":{"name":"x"}', '"scope":{"name":"x"},"x":tru'),
      '<html>sign in</html>',
      '',
    ])
      expect(parse(text, [3, 400]).trace).toBeNull();
    expect(() => parse(JSON.stringify({ spans: [span(0)] }), [5]).trace).toThrow(/neither OTLP nor Jaeger/);
  });

  it("Jaeger's classic JSON is read the classic way", () => {
    const classic = {
      data: [
        {
          spans: [{ traceID: TRACE, spanID: id16(0), operationName: 'rollout', startTime: 1, duration: 2 }],
          processes: {},
        },
      ],
    };
    const text = JSON.stringify(classic);
    expect(parse(text, [7]).trace).toEqual(normalizeTrace(classic, TRACE, 100));
  });
});
