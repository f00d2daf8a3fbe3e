/** How a finished value is printed: as is, or e.g. at the shortest float32 round-trip (see precision.ts). */
export type ValueRound = (v: number) => number;
const asIs: ValueRound = (v) => v;

/**
 * Min/max per time bucket, fed chunk by chunk (a window is never held whole): `points` buckets of equal time
 * width over [fromNs, toNs]; each non-empty bucket keeps its first sample's time and every column's finite min
 * and max, so a spike never disappears between pixels. NaN/Inf are ignored; a bucket of only NaN is null (a gap).
 * `round` applies to each finished min/max only (one call per bucket and column, not per sample).
 */
export class MinMaxBuckets {
  readonly t: number[] = [];
  readonly min: (number | null)[][];
  readonly max: (number | null)[][];
  private bucket = -1;
  private readonly width: number;
  // The open bucket's running min/max per column (NaN = no finite value yet), flushed when the bucket changes.
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;

  constructor(
    private readonly columns: number,
    private readonly fromNs: number,
    toNs: number,
    private readonly points: number,
    private readonly round: ValueRound = asIs,
  ) {
    this.width = Math.max(toNs - fromNs, 1) / points;
    this.min = Array.from({ length: columns }, () => []);
    this.max = Array.from({ length: columns }, () => []);
    this.lo = new Float64Array(columns).fill(Number.NaN);
    this.hi = new Float64Array(columns).fill(Number.NaN);
  }

  /** `t[i]` the sample's time, `values[i * columns + c]` its value in column c (row-major). */
  add(t: ArrayLike<number>, values: ArrayLike<number>, count: number): void {
    const cols = this.columns;
    const { lo, hi } = this;
    for (let i = 0; i < count; i++) {
      const ti = t[i] as number;
      const b = Math.min(this.points - 1, Math.max(0, Math.floor((ti - this.fromNs) / this.width)));
      if (b !== this.bucket) {
        this.flush();
        this.bucket = b;
        this.t.push(ti);
      }
      const row = i * cols;
      for (let c = 0; c < cols; c++) {
        const v = values[row + c] as number;
        if (v - v !== 0) continue; // NaN or ±Inf
        const l = lo[c] as number;
        if (!(v >= l)) lo[c] = v; // also true while l is NaN
        const h = hi[c] as number;
        if (!(v <= h)) hi[c] = v;
      }
    }
  }

  /** Closes the open bucket; call once after the last `add` (the getters below do). */
  private flush(): void {
    if (this.bucket < 0) return;
    for (let c = 0; c < this.columns; c++) {
      const l = this.lo[c] as number;
      const h = this.hi[c] as number;
      (this.min[c] as (number | null)[]).push(Number.isNaN(l) ? null : this.round(l));
      (this.max[c] as (number | null)[]).push(Number.isNaN(h) ? null : this.round(h));
    }
    this.lo.fill(Number.NaN);
    this.hi.fill(Number.NaN);
    this.bucket = -1;
  }

  /** The finished buckets: first time, and per column the min and max of each. */
  result(): { t: number[]; min: (number | null)[][]; max: (number | null)[][] } {
    this.flush();
    return { t: this.t, min: this.min, max: this.max };
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
