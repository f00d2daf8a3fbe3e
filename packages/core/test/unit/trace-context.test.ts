import { describe, expect, it } from 'vitest';
import { isValidTracestate, normalizeOtelBlock, resolveEpisodeOtel } from '../../src/trace-context.js';
import { vectors } from './vectors.js';

describe('ingest vectors (TRACE_CONTEXT.md §2)', () => {
  it('covers the whole section', () => expect(vectors.ingest.cases.length).toBeGreaterThanOrEqual(17));
  for (const c of vectors.ingest.cases) {
    it(c.name, () => {
      const result = resolveEpisodeOtel(c.otel, c.metadata);
      expect(result.block).toEqual(c.stored);
      expect(result.warnings.length > 0).toBe(c.warning);
      // The block is stored at metadata.otel, and nowhere else in metadata.
      if (c.stored) expect(result.metadata.otel).toEqual(c.stored);
      else expect(Object.hasOwn(result.metadata, 'otel')).toBe(false);
      for (const [k, v] of Object.entries(c.metadata ?? {}))
        if (k !== 'otel') expect(result.metadata[k]).toEqual(v);
    });
  }
});

describe('tracestate rules', () => {
  it('accepts tenant keys and empty members, refuses duplicates, too many members and bad values', () => {
    expect(isValidTracestate('acme@dd=1, rojo=00f067aa0ba902b7,,')).toBe(true);
    expect(isValidTracestate('a=1,a=2')).toBe(false);
    expect(isValidTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','))).toBe(false);
    expect(isValidTracestate('k=a,b')).toBe(false);
    expect(isValidTracestate(`k=${'x'.repeat(600)}`)).toBe(false);
  });
  it('keeps ids when only the tracestate is bad, and drops a non-string tracestate', () => {
    const r = normalizeOtelBlock({
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      tracestate: 7,
    });
    expect(r.block).toEqual({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' });
    expect(r.warnings).toHaveLength(1);
  });
  it('refuses a trace id without a span id', () => {
    expect(normalizeOtelBlock({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }).block).toBeNull();
  });
});
