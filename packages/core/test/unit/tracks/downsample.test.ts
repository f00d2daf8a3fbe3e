import { describe, expect, it } from 'vitest';
import { FullResolution, MinMaxBuckets } from '../../../src/tracks/downsample.js';

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

  it('a single sample', () => {
    const f = new FullResolution(1);
    f.add([42], [7], 1);
    expect(f.t).toEqual([42]);
    expect(f.values).toEqual([[7]]);
  });
});
