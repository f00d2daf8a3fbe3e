import { decodeBigInts, decodeInto, type NumericDtype } from './npy.js';
import { countNonFiniteSimd } from './simd-count.js';

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
    // A copy (Buffer#slice would share): the chunk's memory may be refilled once the caller asks for the next.
    this.carry = Uint8Array.prototype.slice.call(bytes, whole);
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
    if (this.dtype.kind === 'f' && this.dtype.littleEndian && this.dtype.itemsize >= 4) {
      this.pushFloatBits(this.split.push(chunk));
      return;
    }
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

  private pushFloatBits(bytes: Uint8Array): void {
    // push() sends only little-endian float32 / float64 here.
    const simd = countNonFiniteSimd(bytes, this.dtype.itemsize as 4 | 8);
    if (simd !== null) {
      this.nonFinite += simd;
      this.items += bytes.byteLength / this.dtype.itemsize;
      return;
    }
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes); // a copy: Buffer#slice would share (and keep) the odd offset
    const words = new Int32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
    this.nonFinite += this.dtype.itemsize === 4 ? countF32NonFinite(words) : countF64NonFinite(words);
    this.items += bytes.byteLength / this.dtype.itemsize;
  }
}

/** NaN and ±Inf are exactly the floats whose exponent bits are all ones: checked on the bits, no decoding. */
const F32_EXP = 0x7f800000;
const F64_EXP_HI = 0x7ff00000;

/*
 * Where WebAssembly SIMD is missing (simd-count.ts). Branch-free, four counters: (w & EXP) + (lowest exponent bit) reaches the sign bit exactly when the exponent
 * is all ones, so `>>> 31` is 1 for NaN/±Inf and 0 otherwise — about 3× faster than a compare and branch per
 * value. One loop per width, with constants, so the JIT keeps it tight.
 */
function countF32NonFinite(w: Int32Array): number {
  const n = w.length;
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    a += (((w[i] as number) & F32_EXP) + 0x00800000) >>> 31;
    b += (((w[i + 1] as number) & F32_EXP) + 0x00800000) >>> 31;
    c += (((w[i + 2] as number) & F32_EXP) + 0x00800000) >>> 31;
    d += (((w[i + 3] as number) & F32_EXP) + 0x00800000) >>> 31;
  }
  for (; i < n; i++) a += (((w[i] as number) & F32_EXP) + 0x00800000) >>> 31;
  return a + b + c + d;
}

/** Little-endian float64: the exponent is in the high (odd) word. */
function countF64NonFinite(w: Int32Array): number {
  const n = w.length;
  let a = 0;
  let b = 0;
  let i = 1;
  for (; i + 2 < n; i += 4) {
    a += (((w[i] as number) & F64_EXP_HI) + 0x00100000) >>> 31;
    b += (((w[i + 2] as number) & F64_EXP_HI) + 0x00100000) >>> 31;
  }
  for (; i < n; i += 2) a += (((w[i] as number) & F64_EXP_HI) + 0x00100000) >>> 31;
  return a + b;
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
    if (n > 0 && this.dtype.kind === 'i' && this.dtype.itemsize === 8 && this.dtype.littleEndian) {
      this.pushInt64(bytes, n);
      return;
    }
    const values = decodeBigInts(this.dtype, bytes, n);
    for (let i = 0; i < n; i++) {
      const v = values[i] as bigint;
      if (this.first === null) this.first = v;
      else if (this.last !== null && v < this.last) this.monotonic = false;
      this.last = v;
    }
    this.items += n;
  }

  /** int64 stamps compared as (signed high word, unsigned low word): no BigInt per item. */
  private pushInt64(bytes: Uint8Array, n: number): void {
    const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes); // a copy: Buffer#slice would share (and keep) the odd offset
    const w = new Uint32Array(aligned.buffer, aligned.byteOffset, n * 2);
    const first = new BigInt64Array(aligned.buffer, aligned.byteOffset, n);
    if (this.first === null) this.first = first[0] ?? null;
    let prevHi: number;
    let prevLo: number;
    if (this.last === null) {
      prevHi = (w[1] as number) | 0;
      prevLo = w[0] as number;
    } else {
      prevHi = Number(BigInt.asIntN(32, this.last >> 32n));
      prevLo = Number(BigInt.asUintN(32, this.last));
    }
    let monotonic = this.monotonic;
    for (let i = 0; i < n && monotonic; i++) {
      const hi = (w[2 * i + 1] as number) | 0;
      const lo = w[2 * i] as number;
      if (hi < prevHi || (hi === prevHi && lo < prevLo)) monotonic = false;
      prevHi = hi;
      prevLo = lo;
    }
    this.monotonic = monotonic;
    this.last = first[n - 1] ?? this.last;
    this.items += n;
  }
}
