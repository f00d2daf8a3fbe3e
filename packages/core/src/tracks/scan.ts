import { decodeBigInts, decodeInto, type NumericDtype } from './npy.js';

/**
 * Feeds chunks of raw array bytes that may split items; emits whole items only. One pass, constant memory:
 * the indexer checks values and time stamps this way without holding an array.
 */
export class ItemSplitter {
  private carry: Uint8Array = new Uint8Array(0);
  constructor(private readonly itemsize: number) {}

  /** Returns the bytes of the whole items available now. */
  push(chunk: Uint8Array): Uint8Array {
    let bytes = chunk;
    if (this.carry.byteLength > 0) {
      bytes = new Uint8Array(this.carry.byteLength + chunk.byteLength);
      bytes.set(this.carry);
      bytes.set(chunk, this.carry.byteLength);
    }
    const whole = bytes.byteLength - (bytes.byteLength % this.itemsize);
    this.carry = bytes.slice(whole);
    return bytes.subarray(0, whole);
  }
}

/** Counts NaN/±Inf over a value array. */
export class FiniteScan {
  nonFinite = 0;
  items = 0;
  private readonly split: ItemSplitter;
  private buf = new Float64Array(0);
  constructor(private readonly dtype: NumericDtype) {
    this.split = new ItemSplitter(dtype.itemsize);
  }
  push(chunk: Uint8Array): void {
    if (this.dtype.kind !== 'f') {
      this.items += Math.floor(this.split.push(chunk).byteLength / this.dtype.itemsize);
      return;
    }
    const bytes = this.split.push(chunk);
    const n = bytes.byteLength / this.dtype.itemsize;
    if (this.buf.length < n) this.buf = new Float64Array(n);
    decodeInto(this.dtype, bytes, n, this.buf);
    const buf = this.buf;
    let bad = 0;
    // x - x is NaN exactly for NaN and ±Inf: one subtraction per value, no call.
    for (let i = 0; i < n; i++) if ((buf[i] as number) - (buf[i] as number) !== 0) bad++;
    this.nonFinite += bad;
    this.items += n;
  }
}

/** First, last and monotonicity of a `_t_ns` array, exactly (BigInt). */
export class TimeScan {
  first: bigint | null = null;
  last: bigint | null = null;
  monotonic = true;
  items = 0;
  private readonly split: ItemSplitter;
  constructor(private readonly dtype: NumericDtype) {
    this.split = new ItemSplitter(dtype.itemsize);
  }
  push(chunk: Uint8Array): void {
    const bytes = this.split.push(chunk);
    const n = bytes.byteLength / this.dtype.itemsize;
    const values = decodeBigInts(this.dtype, bytes, n);
    for (let i = 0; i < n; i++) {
      const v = values[i] as bigint;
      if (this.first === null) this.first = v;
      else if (this.last !== null && v < this.last) this.monotonic = false;
      this.last = v;
    }
    this.items += n;
  }
}
