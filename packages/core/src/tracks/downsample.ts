/** How a finished value is printed: as is, or e.g. at the shortest float32 round-trip (see precision.ts). */
export type ValueRound = (v: number) => number;
const asIs: ValueRound = (v) => v;

/**
 * Min/max per time bucket, fed chunk by chunk (a window is never held whole): `points` buckets of equal time
 * width over [fromNs, toNs]; each non-empty bucket keeps its first sample's time and every column's finite min
 * and max, so a spike never disappears between pixels. NaN/Inf are ignored; a bucket of only NaN is null (a gap).
 * The open buckets live in flat typed arrays (NaN = no finite value yet): no array push per bucket and column
 * and no boxed number until `result()` builds each column's array once, with `round` applied to each value.
 */
export class MinMaxBuckets {
  private bucket = -1;
  /** Non-empty buckets so far; bucket k's column c is at k * columns + c. */
  private filled = 0;
  private times: Float64Array;
  private lo: Float64Array;
  private hi: Float64Array;
  private readonly width: number;

  constructor(
    private readonly columns: number,
    private readonly fromNs: number,
    toNs: number,
    private readonly points: number,
    private readonly round: ValueRound = asIs,
  ) {
    this.width = Math.max(toNs - fromNs, 1) / points;
    // Grown on demand: a window may fill far fewer than `points` buckets, and columns × points can be large.
    const capacity = Math.min(points, 256);
    this.times = new Float64Array(capacity);
    this.lo = new Float64Array(capacity * columns);
    this.hi = new Float64Array(capacity * columns);
  }

  /** `t[i]` the sample's time, `values[i * columns + c]` its value in column c (row-major). */
  add(t: ArrayLike<number>, values: ArrayLike<number>, count: number): void {
    const cols = this.columns;
    let { lo, hi } = this;
    let base = (this.filled - 1) * cols;
    for (let i = 0; i < count; i++) {
      const ti = t[i] as number;
      const b = Math.min(this.points - 1, Math.max(0, Math.floor((ti - this.fromNs) / this.width)));
      if (b !== this.bucket) {
        this.open(ti);
        this.bucket = b;
        ({ lo, hi } = this);
        base = (this.filled - 1) * cols;
      }
      const row = i * cols;
      for (let c = 0; c < cols; c++) {
        const v = values[row + c] as number;
        if (v - v !== 0) continue; // NaN or ±Inf
        const at = base + c;
        if (!((lo[at] as number) <= v)) lo[at] = v; // also true while the slot is NaN
        if (!((hi[at] as number) >= v)) hi[at] = v;
      }
    }
  }

  /** Starts the next bucket at time `t` (times only grow, so a bucket is never reopened). */
  private open(t: number): void {
    const k = this.filled++;
    if (k >= this.times.length) {
      const grow = (a: Float64Array, n: number) => {
        const b = new Float64Array(n);
        b.set(a);
        return b;
      };
      const n = Math.min(this.points, this.times.length * 2);
      this.times = grow(this.times, n);
      this.lo = grow(this.lo, n * this.columns);
      this.hi = grow(this.hi, n * this.columns);
    }
    this.times[k] = t;
    this.lo.fill(Number.NaN, k * this.columns, (k + 1) * this.columns);
    this.hi.fill(Number.NaN, k * this.columns, (k + 1) * this.columns);
  }

  /** The finished buckets: first time, and per column the min and max of each (null: no finite value). */
  result(): { t: number[]; min: (number | null)[][]; max: (number | null)[][] } {
    const n = this.filled;
    const t = Array.from(this.times.subarray(0, n));
    const column = (a: Float64Array, c: number) => {
      const out: (number | null)[] = [];
      for (let k = 0; k < n; k++) {
        const v = a[k * this.columns + c] as number;
        out.push(Number.isNaN(v) ? null : this.round(v));
      }
      return out;
    };
    const cs = Array.from({ length: this.columns }, (_, c) => c);
    return { t, min: cs.map((c) => column(this.lo, c)), max: cs.map((c) => column(this.hi, c)) };
  }
}

/** Every sample as is (a window with no more samples than points): min = max = the value, NaN/Inf → null. */
export class FullResolution {
  readonly t: number[] = [];
  readonly values: (number | null)[][];
  constructor(
    private readonly columns: number,
    private readonly round: ValueRound = asIs,
  ) {
    this.values = Array.from({ length: columns }, () => []);
  }
  add(t: ArrayLike<number>, values: ArrayLike<number>, count: number): void {
    for (let i = 0; i < count; i++) {
      this.t.push(t[i] as number);
      for (let c = 0; c < this.columns; c++) {
        const v = values[i * this.columns + c] as number;
        (this.values[c] as (number | null)[]).push(Number.isFinite(v) ? this.round(v) : null);
      }
    }
  }
}
