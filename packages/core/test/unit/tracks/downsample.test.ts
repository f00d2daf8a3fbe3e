import { describe, expect, it } from 'vitest';
import { FullResolution, MinMaxBuckets } from '../../../src/tracks/downsample.js';
import { shortestFloat32 } from '../../../src/tracks/precision.js';

const ramp = (n: number, f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));

describe('MinMaxBuckets', () => {
  it('one bucket per time slice: first time, min and max of each column', () => {
    const n = 1000;
    const t = ramp(n, (i) => i);
    // two columns, row-major: c0 = i, c1 = -i
    const values = Float64Array.from({ length: n * 2 }, (_, k) => (k % 2 === 0 ? k / 2 : -(k - 1) / 2));
    const b = new MinMaxBuckets(2, 0, 1000, 10);
    b.add(t, values, n);
    const r = b.result();
    expect(r.t).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(r.min[0]).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(r.max[0]).toEqual([99, 199, 299, 399, 499, 599, 699, 799, 899, 999]);
    expect(r.min[1]).toEqual((r.max[0] as number[]).map((v) => -v));
  });

  it('never more buckets than points, and the bounds are kept (the last sample falls in the last bucket)', () => {
    const t = ramp(5000, (i) => i * 3);
    const b = new MinMaxBuckets(1, 0, 4999 * 3, 7);
    b.add(
      t,
      ramp(5000, (i) => i),
      5000,
    );
    const r = b.result();
    expect(r.t.length).toBe(7);
    expect(r.min[0]?.[0]).toBe(0);
    expect(r.max[0]?.[6]).toBe(4999);
  });

  it('a spike between pixels survives', () => {
    const values = ramp(10_000, () => 0);
    values[4321] = 50;
    const b = new MinMaxBuckets(1, 0, 10_000, 20);
    b.add(
      ramp(10_000, (i) => i),
      values,
      10_000,
    );
    const r = b.result();
    expect(Math.max(...(r.max[0] as number[]))).toBe(50);
  });

  it('NaN/Inf are ignored; a bucket of only NaN is a gap (null)', () => {
    const values = Float64Array.from([1, 2, Number.NaN, Number.NaN, Number.POSITIVE_INFINITY, 5]);
    const b = new MinMaxBuckets(1, 0, 6, 3);
    b.add(
      ramp(6, (i) => i),
      values,
      6,
    );
    const r = b.result();
    expect(r.t).toEqual([0, 2, 4]);
    expect(r.min[0]).toEqual([1, null, 5]);
    expect(r.max[0]).toEqual([2, null, 5]);
  });

  it('fed in several chunks gives the same buckets as in one', () => {
    const t = ramp(300, (i) => i);
    const v = ramp(300, (i) => Math.sin(i / 10));
    const whole = new MinMaxBuckets(1, 0, 300, 13);
    whole.add(t, v, 300);
    const wr = whole.result();
    const parts = new MinMaxBuckets(1, 0, 300, 13);
    for (let s = 0; s < 300; s += 37) parts.add(t.subarray(s), v.subarray(s), Math.min(37, 300 - s));
    const pr = parts.result();
    expect(pr.t).toEqual(wr.t);
    expect(pr.min).toEqual(wr.min);
    expect(pr.max).toEqual(wr.max);
  });

  it('a zero-width window (a single instant) is one bucket', () => {
    const b = new MinMaxBuckets(1, 5, 5, 100);
    b.add([5, 5, 5], [3, 1, 2], 3);
    const r = b.result();
    expect(r.t).toEqual([5]);
    expect(r.min[0]).toEqual([1]);
    expect(r.max[0]).toEqual([3]);
  });
});

describe('MinMaxBuckets: many buckets, rounding, one sample', () => {
  /** The plain definition: every sample into its bucket, then min/max of the finite ones. */
  function reference(t: number[], v: number[], cols: number, from: number, to: number, points: number) {
    const width = Math.max(to - from, 1) / points;
    const byBucket = new Map<number, { t: number; rows: number[][] }>();
    t.forEach((ti, i) => {
      const b = Math.min(points - 1, Math.max(0, Math.floor((ti - from) / width)));
      const slot = byBucket.get(b) ?? { t: ti, rows: [] };
      slot.rows.push(v.slice(i * cols, (i + 1) * cols));
      byBucket.set(b, slot);
    });
    const slots = [...byBucket.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
    const pick = (c: number, f: (xs: number[]) => number) =>
      slots.map((s) => {
        const xs = s.rows.map((r) => r[c] as number).filter(Number.isFinite);
        return xs.length ? f(xs) : null;
      });
    return {
      t: slots.map((s) => s.t),
      min: Array.from({ length: cols }, (_, c) => pick(c, (xs) => Math.min(...xs))),
      max: Array.from({ length: cols }, (_, c) => pick(c, (xs) => Math.max(...xs))),
    };
  }

  it('past the first 256 buckets (the arrays grow) it still matches the plain definition, gaps included', () => {
    const n = 9000;
    const cols = 3;
    const t = Array.from({ length: n }, (_, i) => i * 7);
    const v = Array.from({ length: n * cols }, (_, k) =>
      k % 97 === 0 ? Number.NaN : Math.sin(k / 13) * (1 + (k % cols)),
    );
    for (let k = 3000 * cols; k < 3040 * cols; k++) v[k] = Number.NaN; // a gap several buckets wide
    const b = new MinMaxBuckets(cols, 0, (n - 1) * 7, 3000);
    for (let s = 0; s < n; s += 1000)
      b.add(t.slice(s, s + 1000), v.slice(s * cols, (s + 1000) * cols), Math.min(1000, n - s));
    const got = b.result();
    const want = reference(t, v, cols, 0, (n - 1) * 7, 3000);
    expect(got.t.length).toBe(3000);
    expect(got).toEqual(want);
    expect(got.min[0]?.filter((x) => x === null).length).toBeGreaterThan(5);
  });

  it('with shortestFloat32, each min and max reads back as the float32 sample it came from', () => {
    const n = 5000;
    const samples = Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i / 31) * 12.3 + i * 1e-4));
    const b = new MinMaxBuckets(1, 0, n - 1, 50, shortestFloat32);
    b.add(
      ramp(n, (i) => i),
      samples,
      n,
    );
    const r = b.result();
    const exact = new MinMaxBuckets(1, 0, n - 1, 50);
    exact.add(
      ramp(n, (i) => i),
      samples,
      n,
    );
    const e = exact.result();
    expect(r.min[0]?.map((x) => Math.fround(x as number))).toEqual(e.min[0]);
    expect(r.max[0]?.map((x) => Math.fround(x as number))).toEqual(e.max[0]);
    expect(JSON.stringify(r).length).toBeLessThan(JSON.stringify(e).length * 0.7);
  });

  it('a single sample is one bucket at its own time', () => {
    const b = new MinMaxBuckets(2, 0, 1000, 2000, shortestFloat32);
    b.add([400], [Math.fround(0.1), Number.NaN], 1);
    expect(b.result()).toEqual({ t: [400], min: [[0.1], [null]], max: [[0.1], [null]] });
  });

  it('nothing added: no buckets', () => {
    expect(new MinMaxBuckets(2, 0, 10, 5).result()).toEqual({ t: [], min: [[], []], max: [[], []] });
  });
});

describe('FullResolution', () => {
  it('exact values at low counts; NaN/Inf as null', () => {
    const f = new FullResolution(2);
    f.add([0, 10, 20], [1.5, -1, Number.NaN, 2, 3, Number.NEGATIVE_INFINITY], 3);
    expect(f.t).toEqual([0, 10, 20]);
    expect(f.values).toEqual([
      [1.5, null, 3],
      [-1, 2, null],
    ]);
  });

  it('float32 samples at their shortest round-trip, every value exact (low counts are never bucketed)', () => {
    const f = new FullResolution(1, shortestFloat32);
    const stored = [0.1, 1 / 3, 1e-7, -42.125].map(Math.fround);
    f.add([0, 1, 2, 3], stored, 4);
    expect(f.values).toEqual([[0.1, 0.33333334, 1e-7, -42.125]]);
    expect(f.values[0]?.map((v) => Math.fround(v as number))).toEqual(stored);
  });

  it('a single sample', () => {
    const f = new FullResolution(1);
    f.add([42], [7], 1);
    expect(f.t).toEqual([42]);
    expect(f.values).toEqual([[7]]);
  });
});
