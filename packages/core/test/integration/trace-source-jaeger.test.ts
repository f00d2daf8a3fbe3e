import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJaeger, type TestJaeger } from '../../../../test/support/jaeger.js';
import { TRACE_SOURCE_DEFAULTS, TraceSource } from '../../src/trace-source/source.js';

// A real Jaeger v2: spans go in over OTLP/HTTP as an exporter sends them, come back through its query API.
let jaeger: TestJaeger;
beforeAll(async () => {
  jaeger = await startJaeger();
}, 900_000);
afterAll(async () => {
  await jaeger?.stop();
});

const TRACE = 'aa2b3c4d5e6f708192a3b4c5d6e7f801';
const ROOT = '1111111111111111';
const INFER = '2222222222222222';

async function exportSpans(): Promise<void> {
  const t0 = 1_796_000_000_000_000_000n;
  const res = await fetch(`${jaeger.otlpHttp}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'robot-runtime' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: TRACE,
                  spanId: ROOT,
                  name: 'rollout',
                  kind: 1,
                  startTimeUnixNano: String(t0),
                  endTimeUnixNano: String(t0 + 5_000_000_000n),
                },
                {
                  traceId: TRACE,
                  spanId: INFER,
                  parentSpanId: ROOT,
                  name: 'policy.infer',
                  kind: 3,
                  startTimeUnixNano: String(t0 + 1_000_000_000n),
                  endTimeUnixNano: String(t0 + 1_180_000_000n),
                  status: { code: 2, message: 'slow GPU' },
                  attributes: [{ key: 'model', value: { stringValue: 'pi-0.3.1' } }],
                  events: [{ name: 'batch', timeUnixNano: String(t0 + 1_100_000_000n) }],
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  expect(res.status).toBe(200);
}

describe('trace source against a real Jaeger v2', () => {
  it('finds the exported spans through /api/v3 with their parents, status, events and times', async () => {
    await exportSpans();
    const source = new TraceSource({
      kind: 'jaeger',
      url: jaeger.query,
      headers: {},
      ...TRACE_SOURCE_DEFAULTS,
      missTtlMs: 0,
    });
    let r = await source.lookup(TRACE, { startS: 0, endS: 0 });
    // The exporter path batches: poll until Jaeger has stored both spans.
    for (let i = 0; i < 100 && !(r.status === 'found' && r.total_spans === 2); i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await source.lookup(TRACE, { startS: 0, endS: 0 });
    }
    expect(r.status).toBe('found');
    if (r.status !== 'found') return;
    const spans = r.spans.toArray();
    expect(spans.map((s) => [s.name, s.parent_span_id, s.service])).toEqual([
      ['rollout', null, 'robot-runtime'],
      ['policy.infer', ROOT, 'robot-runtime'],
    ]);
    expect(spans[1]).toMatchObject({
      kind: 'client',
      start_unix_ns: '1796000001000000000',
      end_unix_ns: '1796000001180000000',
      status: { code: 'error', message: 'slow GPU' },
      attributes: { model: 'pi-0.3.1' },
      events: [{ name: 'batch', time_unix_ns: '1796000001100000000' }],
    });
  });

  it('answers not found for a trace Jaeger does not have, and unavailable once Jaeger is gone', async () => {
    const source = new TraceSource({
      kind: 'jaeger',
      url: jaeger.query,
      headers: {},
      ...TRACE_SOURCE_DEFAULTS,
      missTtlMs: 0,
    });
    expect((await source.lookup('ffffffffffffffffffffffffffffffff', { startS: 0, endS: 0 })).status).toBe(
      'not_found',
    );
    await jaeger.stop();
    expect(await source.lookup(TRACE, { startS: 0, endS: 0 })).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(/cannot reach/),
    });
  });
});
