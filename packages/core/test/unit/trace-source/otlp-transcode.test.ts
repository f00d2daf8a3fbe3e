import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeTrace } from '../../../src/trace-source/normalize.js';
import { SHARED_MAX_BYTES, transcodeCompact } from '../../../src/trace-source/otlp-compact.js';
import { OTLP_COMPACT_SOURCE_SHA256 } from '../../../src/trace-source/otlp-compact-wasm.js';
import { transcodeOtlp } from '../../../src/trace-source/otlp-transcode.js';

// The transcoder (WebAssembly, for the compact layout OTLP's JSON marshaller writes) must answer exactly what
// JSON.parse + normalizeTrace answer (the API's spans), or decline (null) so the caller takes the next path.
// Compared here on generated answers: "clean" ones in the layout OTLP's JSON marshaller writes, with every kind
// of value, and "mixed" ones where any field may take an odd form.

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const OTHER = '0af7651916cd43dd8448eb211c80319c';

/** A small seeded PRNG (mulberry32): the same cases on every run, a failing seed reproducible. */
function rng(seed: number, clean = false) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const chance = (p: number) => next() < p;
  /** An odd form (a base64 id, a time as a number…): never in a clean answer. */
  const odd = (p: number) => !clean && next() < p;
  return { int, pick, chance, odd, clean };
}
type R = ReturnType<typeof rng>;

const hex = (r: R, n: number) => Array.from({ length: n }, () => '0123456789abcdef'[r.int(16)]).join('');
const b64 = (h: string) => Buffer.from(h, 'hex').toString('base64');

function id(r: R, bytes: 8 | 16, fixed?: string): unknown {
  const h = fixed ?? hex(r, bytes * 2);
  if (!r.odd(0.15)) return h;
  return r.pick([h.toUpperCase(), b64(h), '', '0'.repeat(bytes * 2), 42, null, ` ${h}`, h.slice(1)]);
}

function time(r: R, base: bigint): unknown {
  const t = base + BigInt(r.int(1_000_000_000));
  if (!r.odd(0.15)) return r.clean && r.chance(0.05) ? `0${t}` : String(t);
  return r.pick([
    Number(t),
    `0${t}`,
    ' 5',
    'x',
    '',
    null,
    '18446744073709551615',
    '123456789012345678901',
    0,
    -1,
  ]);
}

const STRINGS = [
  'left',
  '',
  'q"uote',
  'back\\slash',
  'tab\t',
  'ünïcode ✓',
  '\u0000',
  '__proto__',
  'a/b',
  '😀',
];

function anyValue(r: R, depth = 0): unknown {
  if (r.odd(0.2))
    return r.pick([
      { intValue: r.pick(['-0', '007', '9007199254740993', ' 12', 'x']) },
      { intValue: r.pick([7, -3, 1e21, 2 ** 53 + 2]) },
      { boolValue: r.pick(['true', 1]) },
      { doubleValue: r.pick(['NaN', 'Infinity', '2.5', 5e-324]) },
      { stringValue: 3 },
      'scalar',
      null,
      { stringValue: 'a', intValue: '1' },
      { unknownValue: 1 },
    ]);
  switch (r.int(depth > 2 ? 6 : 8)) {
    case 0:
    case 1:
      return { stringValue: r.pick(STRINGS) };
    case 2:
      return { intValue: r.pick(['7', '-3', '0', '123456789012345', '-999']) };
    case 3:
      return { boolValue: r.chance(0.5) };
    case 4:
      return { doubleValue: r.pick([1.5, -0, 0, 1e-7, 123.456, -2.25, 1e21, 0.1]) };
    case 5:
      return r.pick([{ bytesValue: 'AAE=' }, {}]);
    case 6:
      return {
        arrayValue: r.chance(0.9) ? { values: [anyValue(r, depth + 1), anyValue(r, depth + 1)] } : {},
      };
    default:
      return { kvlistValue: { values: attributes(r, depth + 1) } };
  }
}

function attributes(r: R, depth = 0): unknown[] {
  const n = r.int(4);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const roll = r.odd(0.1) ? r.int(2) : 2;
    if (roll === 0) out.push(r.pick([null, 3, 'kv', { value: { stringValue: 'no key' } }, { key: 5 }]));
    else if (roll === 1) out.push({ key: r.pick(STRINGS) });
    else out.push({ key: r.pick(['step', 'robot.arm', ...STRINGS]), value: anyValue(r, depth) });
  }
  return out;
}

/** Keys in the order OTLP's JSON marshaller writes them (the compact layout). */
function span(r: R, base: bigint): Record<string, unknown> {
  const s: Record<string, unknown> = {
    traceId: id(r, 16, r.chance(0.9) ? TRACE : OTHER),
    spanId: id(r, 8),
  };
  if (r.chance(0.1)) s.traceState = 'k=v';
  if (r.chance(0.8)) s.parentSpanId = id(r, 8);
  if (r.chance(0.2)) s.flags = 257;
  if (r.chance(0.95)) s.name = r.odd(0.1) ? 12 : r.pick(['rollout', 'policy.infer', ...STRINGS]);
  if (r.chance(0.9))
    s.kind = r.odd(0.3)
      ? r.pick([12, 1.5, 'SPAN_KIND_CLIENT', 'server', 'bogus', null])
      : r.pick([0, 1, 2, 3, 4, 5, 6, 9]);
  if (!r.odd(0.03)) s.startTimeUnixNano = time(r, base);
  if (!r.odd(0.05)) s.endTimeUnixNano = time(r, base);
  if (r.chance(0.9)) s.attributes = r.odd(0.05) ? r.pick([null, {}, 'x']) : attributes(r);
  if (r.chance(0.1)) s.droppedAttributesCount = 2;
  if (r.chance(0.4))
    s.events = r.odd(0.1)
      ? r.pick([null, {}])
      : Array.from({ length: r.int(3) }, () =>
          r.odd(0.1)
            ? 'not an event'
            : {
                ...(!r.odd(0.1) ? { timeUnixNano: time(r, base) } : {}),
                ...(r.chance(0.9) ? { name: r.odd(0.1) ? 4 : r.pick(STRINGS) } : {}),
                ...(r.chance(0.6) ? { attributes: attributes(r) } : {}),
              },
        );
  if (r.chance(0.05)) s.links = [{ traceId: TRACE, spanId: hex(r, 16) }];
  if (r.chance(0.7))
    s.status = r.odd(0.3)
      ? r.pick([
          { code: 2, message: 'timeout' },
          { code: 'STATUS_CODE_ERROR' },
          { code: 'STATUS_CODE_OK' },
          null,
          'error',
        ])
      : r.pick([
          {},
          { message: 'timeout', code: 2 },
          { code: 1 },
          { message: '', code: 1 },
          { message: 'm' },
        ]);
  return s;
}

function resourceSpans(r: R, base: bigint): unknown {
  if (r.odd(0.03)) return r.pick([null, 3, 'rs']);
  const rs: Record<string, unknown> = {};
  const service = r.odd(0.1)
    ? r.pick([{ intValue: '3' }, { boolValue: true }, {}])
    : { stringValue: r.pick(['robot-runtime', 'policy-server', 'roboter-ü', '']) };
  const others = r.chance(0.3) ? [{ key: 'host.name', value: { stringValue: 'arm-1' } }] : [];
  const resource = r.odd(0.05)
    ? r.pick([null, {}])
    : { attributes: [...others, { key: 'service.name', value: service }] };
  const scopes = () =>
    Array.from({ length: 1 + r.int(2) }, () =>
      r.odd(0.05)
        ? 'scope'
        : {
            ...(r.chance(0.9) ? { scope: { name: 'lib', version: '1' } } : {}),
            spans: r.odd(0.03) ? null : Array.from({ length: r.int(6) }, () => span(r, base)),
          },
    );
  // The resource first (every exporter's order), or after the spans, or the older key too.
  const late = r.odd(0.2);
  if (!late) rs.resource = resource;
  if (!r.odd(0.05)) rs.scopeSpans = scopes();
  if (r.odd(0.1)) rs.instrumentationLibrarySpans = scopes();
  if (late && r.chance(0.8)) rs.resource = resource;
  if (r.chance(0.1)) rs.schemaUrl = 'https://opentelemetry.io/schemas/1.21.0';
  return rs;
}

function answer(r: R): unknown {
  const base = 1_796_000_000_000_000_000n;
  const list = Array.from({ length: 1 + r.int(3) }, () => resourceSpans(r, base));
  // Jaeger v3's envelope, Tempo v2's and none are the compact reader's; Tempo v1's goes to the object path.
  const envelopes: unknown[] = [
    { result: { resourceSpans: list } },
    { trace: { resourceSpans: list } },
    { resourceSpans: list },
  ];
  if (!r.clean) envelopes.push({ batches: list });
  return r.pick(envelopes);
}

/** Variations of the text: whitespace, a duplicate key, an escaped key, a cut-off answer. */
function text(r: R, body: unknown): string {
  const compact = JSON.stringify(body);
  if (!r.odd(0.25)) return compact;
  switch (r.int(6)) {
    case 0:
      return JSON.stringify(body, null, 2);
    case 1:
      return compact.replace('"name":', '"name":"first","name":');
    case 2:
      return compact.replace('"spanId"', '"span\\u0049d"');
    case 3:
      return compact.slice(0, Math.max(1, compact.length - 1 - r.int(40)));
    case 4:
      return compact.replace('"attributes":[', '"attributes":[],"attributes":[');
    default:
      return ` ${compact.replace(/,/g, ' , ')}\n`;
  }
}

const wire = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
/** JSON with every object's keys sorted: two values with the same content give the same text. */
const canonical = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

type Transcoder = (body: Buffer, traceId: string, maxSpans: number) => ReturnType<typeof transcodeOtlp>;

/** Whether `transcode` read the answer itself; when it did, its spans must be normalizeTrace's. */
function compare(transcode: Transcoder, body: string, maxSpans: number): boolean {
  let expected: ReturnType<typeof normalizeTrace> | 'error';
  try {
    expected = normalizeTrace(JSON.parse(body), TRACE, maxSpans);
  } catch {
    expected = 'error';
  }
  const got = transcode(Buffer.from(body), TRACE, maxSpans);
  if (!got) return false;
  if (expected === 'error') throw new Error(`accepted what normalizeTrace refuses: ${body.slice(0, 300)}`);
  const spans = JSON.parse(got.spans.json.toString('utf8')) as unknown[];
  const want = wire(expected.spans) as unknown[];
  // The first span that differs, as text (the error then shows what differs).
  const differs = want.findIndex((w, i) => canonical(w) !== canonical(spans[i]));
  if (differs >= 0) expect(canonical(spans[differs])).toBe(canonical(want[differs]));
  expect(spans).toEqual(want);
  expect([got.total_spans, got.truncated]).toEqual([expected.total_spans, expected.truncated]);
  for (const s of expected.spans)
    expect(got.spans.timesOf(s.span_id)).toEqual({
      start_unix_ns: s.start_unix_ns,
      end_unix_ns: s.end_unix_ns,
    });
  return true;
}

/** Runs the transcoder on `cases` generated answers; how many it read itself. */
function compareOn(cases: number, clean: boolean): number {
  let read = 0;
  for (let seed = 1; seed <= cases; seed++) {
    const r = rng(seed, clean);
    const body = text(r, answer(r));
    const maxSpans = r.chance(0.2) ? r.int(5) : 10_000;
    try {
      if (compare(transcodeOtlp, body, maxSpans)) read++;
    } catch (err) {
      throw new Error(`${clean ? 'clean' : 'mixed'} seed ${seed}: ${(err as Error).message}`);
    }
  }
  return read;
}

describe('OTLP JSON transcoding', () => {
  it('gives what JSON.parse + normalizeTrace give, on 1,500 generated answers in the compact layout', () => {
    // The transcoder takes most of them itself (else this would compare nothing).
    expect(compareOn(1500, true)).toBeGreaterThan(1200);
  });

  it('gives what JSON.parse + normalizeTrace give, on 3,000 generated answers where any field may be odd', () => {
    // Most are declined (the object path reads them); what is read must still be right.
    expect(compareOn(3000, false)).toBeGreaterThan(20);
  });

  it('an answer larger than the shared instance takes is read by an instance of its own, the same way', () => {
    const spans = Array.from({ length: 14_000 }, (_, i) => ({
      traceId: TRACE,
      spanId: (i + 1).toString(16).padStart(16, '0'),
      name: `step ${i}`,
      kind: 1,
      startTimeUnixNano: String(1_796_000_000_000_000_000n + BigInt((i * 7919) % 14_000) * 1000n),
      endTimeUnixNano: String(1_796_000_001_000_000_000n),
      attributes: [
        { key: 'step', value: { intValue: String(i) } },
        { key: 'arm', value: { stringValue: 'left' } },
      ],
      status: {},
    }));
    const body = JSON.stringify({
      result: {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'robot-runtime' } }] },
            scopeSpans: [{ scope: { name: 'x'.repeat(10) }, spans }],
          },
        ],
      },
    });
    expect(body.length).toBeGreaterThan(SHARED_MAX_BYTES);
    const got = transcodeCompact(Buffer.from(body), TRACE, 10_000);
    const want = normalizeTrace(JSON.parse(body), TRACE, 10_000);
    expect(got && [got.total_spans, got.truncated]).toEqual([14_000, true]);
    expect(got && JSON.parse(got.spans.json.toString())).toEqual(wire(want.spans));
  });

  it('the WebAssembly module was built from the C source as it is (scripts/build-otlp-wasm.sh)', () => {
    const source = readFileSync(new URL('../../../src/trace-source/wasm/otlp_compact.c', import.meta.url));
    expect(createHash('sha256').update(source).digest('hex')).toBe(OTLP_COMPACT_SOURCE_SHA256);
  });

  it('reads a Jaeger-shaped answer itself, ids, times and attributes as the API serves them', () => {
    const body = JSON.stringify({
      result: {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'robot-runtime' } }] },
            scopeSpans: [
              {
                scope: { name: 'robotrace' },
                spans: [
                  {
                    traceId: TRACE,
                    spanId: 'b7ad6b7169203331',
                    parentSpanId: '00f067aa0ba902b7',
                    flags: 257,
                    name: 'policy.infer',
                    kind: 3,
                    startTimeUnixNano: '1796000000180000000',
                    endTimeUnixNano: '1796000000360000000',
                    attributes: [
                      { key: 'batch', value: { intValue: '8' } },
                      { key: 'model', value: { stringValue: 'pi-0.3.1' } },
                      { key: 'warm', value: { boolValue: false } },
                    ],
                    events: [{ timeUnixNano: '1796000000200000000', name: 'retry' }],
                    status: { message: 'deadline exceeded', code: 2 }, // Jaeger's order
                  },
                  {
                    traceId: TRACE,
                    spanId: '00f067aa0ba902b7',
                    name: 'rollout',
                    kind: 1,
                    startTimeUnixNano: '1796000000000000000',
                    endTimeUnixNano: '1796000001000000000',
                    status: {},
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    const got = transcodeOtlp(Buffer.from(body), TRACE, 100);
    expect(got && JSON.parse(got.spans.json.toString())).toEqual([
      {
        trace_id: TRACE,
        span_id: '00f067aa0ba902b7',
        parent_span_id: null,
        name: 'rollout',
        service: 'robot-runtime',
        kind: 'internal',
        start_unix_ns: '1796000000000000000',
        end_unix_ns: '1796000001000000000',
        status: { code: 'unset' },
        attributes: {},
        events: [],
      },
      {
        trace_id: TRACE,
        span_id: 'b7ad6b7169203331',
        parent_span_id: '00f067aa0ba902b7',
        name: 'policy.infer',
        service: 'robot-runtime',
        kind: 'client',
        start_unix_ns: '1796000000180000000',
        end_unix_ns: '1796000000360000000',
        status: { code: 'error', message: 'deadline exceeded' },
        attributes: { batch: 8, model: 'pi-0.3.1', warm: false },
        events: [{ name: 'retry', time_unix_ns: '1796000000200000000', attributes: {} }],
      },
    ]);
    expect(got?.spans.timesOf('b7ad6b7169203331')).toEqual({
      start_unix_ns: '1796000000180000000',
      end_unix_ns: '1796000000360000000',
    });
    expect(got?.spans.timesOf('ffffffffffffffff')).toBeUndefined();
  });

  it('declines what it does not read: Jaeger classic JSON, two envelopes, bytes that are not UTF-8', () => {
    expect(transcodeOtlp(Buffer.from('{"data":[]}'), TRACE, 10)).toBeNull();
    expect(
      transcodeOtlp(Buffer.from('{"resourceSpans":[],"result":{"resourceSpans":[]}}'), TRACE, 10),
    ).toBeNull();
    expect(transcodeOtlp(Buffer.from([0x7b, 0xff, 0x7d]), TRACE, 10)).toBeNull();
    expect(transcodeOtlp(Buffer.from('<html>'), TRACE, 10)).toBeNull();
  });
});
