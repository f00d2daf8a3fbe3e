/**
 * Min/max per time bucket, fed chunk by chunk (a window is never held whole): `points` buckets of equal time
 * width over [fromNs, toNs]; each non-empty bucket keeps its first sample's time and every column's finite min
 * and max, so a spike never disappears between pixels. NaN/Inf are ignored; a bucket of only NaN is null (a gap).
 */
export class MinMaxBuckets {
  readonly t: number[] = [];
  readonly min: (number | null)[][];
  readonly max: (number | null)[][];
  private bucket = -1;
  private readonly width: number;

  constructor(
    private readonly columns: number,
    private readonly fromNs: number,
    toNs: number,
    private readonly points: number,
  ) {
    this.width = Math.max(toNs - fromNs, 1) / points;
    this.min = Array.from({ length: columns }, () => []);
    this.max = Array.from({ length: columns }, () => []);
  }

  /** `t[i]` the sample's time, `values[i * columns + c]` its value in column c (row-major). */
  add(t: ArrayLike<number>, values: ArrayLike<number>, count: number): void {
    const cols = this.columns;
    for (let i = 0; i < count; i++) {
      const ti = t[i] as number;
      const b = Math.min(this.points - 1, Math.max(0, Math.floor((ti - this.fromNs) / this.width)));
      if (b !== this.bucket) {
        this.bucket = b;
        this.t.push(ti);
        for (let c = 0; c < cols; c++) {
          (this.min[c] as (number | null)[]).push(null);
          (this.max[c] as (number | null)[]).push(null);
        }
      }
      const last = this.t.length - 1;
      for (let c = 0; c < cols; c++) {
        const v = values[i * cols + c] as number;
        if (!Number.isFinite(v)) continue;
        const mins = this.min[c] as (number | null)[];
        const maxs = this.max[c] as (number | null)[];
        const lo = mins[last];
        const hi = maxs[last];
        if (lo === null || lo === undefined || v < lo) mins[last] = v;
        if (hi === null || hi === undefined || v > hi) maxs[last] = v;
      }
    }
  }
}

/** Every sample as is (a window with no more samples than points): min = max = the value, NaN/Inf → null. */
export class FullResolution {
  readonly t: number[] = [];
  readonly values: (number | null)[][];
  constructor(private readonly columns: number) {
    this.values = Array.from({ length: columns }, () => []);
  }
  add(t: ArrayLike<number>, values: ArrayLike<number>, count: number): void {
    for (let i = 0; i < count; i++) {
      this.t.push(t[i] as number);
      for (let c = 0; c < this.columns; c++) {
        const v = values[i * this.columns + c] as number;
        (this.values[c] as (number | null)[]).push(Number.isFinite(v) ? v : null);
      }
    }
  }
}
