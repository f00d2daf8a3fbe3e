import type { ByteSource } from './byte-source.js';
import type { DataRef } from './model.js';
import { decodeBigInts, decodeInto, dtypeOf } from './npy.js';

/** Rows per read: bounds memory for any window (a 1M-row window is read in slices, never at once). */
export const ROWS_PER_READ = 16_384;

/**
 * `length` bytes from `offset`, into `scratch` when the source can read in place (the same memory is refilled by
 * the next call: the caller decodes before reading again), else a fresh buffer. A whole-episode window reads
 * tens of slices; fresh megabyte buffers per slice were garbage that made some requests wait on a major GC.
 */
async function readBytes(
  source: ByteSource,
  offset: number,
  length: number,
  scratch: Uint8Array,
): Promise<Uint8Array> {
  if (!source.readInto || scratch.byteLength < length) return source.read(offset, length);
  const got = await source.readInto(offset, scratch.subarray(0, length));
  return scratch.subarray(0, got);
}

const columnsOf = (ref: DataRef) => ref.shape.slice(1).reduce((a, b) => a * b, 1);
export const rowsOf = (ref: DataRef) => (ref.shape.length === 0 ? 1 : (ref.shape[0] ?? 0));

/**
 * Rows [from, to) of an array as float64, row-major, in slices. C order: one ranged read per slice (rows are
 * contiguous); Fortran order: one ranged read per column per slice.
 */
export async function* readRows(
  source: ByteSource,
  ref: DataRef,
  from: number,
  to: number,
): AsyncGenerator<{ start: number; count: number; values: Float64Array }> {
  const dtype = dtypeOf(ref.descr);
  const cols = columnsOf(ref);
  const n = rowsOf(ref);
  const size = dtype.itemsize;
  // One buffer for every slice (the consumer reads each before asking for the next): a whole-episode window
  // of 12 columns no longer leaves megabytes of garbage per request.
  const sliceRows = Math.min(ROWS_PER_READ, Math.max(0, to - from));
  const buffer = new Float64Array(sliceRows * cols);
  const contiguous = !ref.fortran || cols === 1;
  const raw = new Uint8Array(sliceRows * (contiguous ? cols : 1) * size);
  for (let start = from; start < to; start += ROWS_PER_READ) {
    const count = Math.min(ROWS_PER_READ, to - start);
    const values = buffer.subarray(0, count * cols);
    if (contiguous) {
      const bytes = await readBytes(source, ref.offset + start * cols * size, count * cols * size, raw);
      decodeInto(dtype, bytes, Math.floor(bytes.byteLength / size), values);
    } else {
      const column = new Float64Array(count);
      for (let c = 0; c < cols; c++) {
        const bytes = await readBytes(source, ref.offset + (c * n + start) * size, count * size, raw);
        decodeInto(dtype, bytes, Math.floor(bytes.byteLength / size), column);
        for (let i = 0; i < count; i++) values[i * cols + c] = column[i] as number;
      }
    }
    yield { start, count, values };
  }
}

/** One time stamp, exactly. */
export async function timeAt(source: ByteSource, ref: DataRef, row: number): Promise<bigint> {
  const dtype = dtypeOf(ref.descr);
  const bytes = await source.read(ref.offset + row * dtype.itemsize, dtype.itemsize);
  return decodeBigInts(dtype, bytes, 1)[0] ?? 0n;
}

/** Buffers timesOf may fill instead of allocating, reused across the slices of one window. */
export interface TimeScratch {
  bytes: Uint8Array;
  out: Float64Array;
}

/** Scratch for `rows` stamps per call. */
export const timeScratch = (rows: number): TimeScratch => ({
  bytes: new Uint8Array(rows * 8),
  out: new Float64Array(rows),
});

/**
 * Time stamps of rows [from, to) minus `base`, as numbers (exact while a span is < 2^53 ns ≈ 104 days). With
 * `scratch`, the answer is a view of `scratch.out`, overwritten by the next call.
 */
export async function timesOf(
  source: ByteSource,
  ref: DataRef,
  from: number,
  count: number,
  base: bigint,
  scratch?: TimeScratch,
): Promise<Float64Array> {
  const dtype = dtypeOf(ref.descr);
  const length = count * dtype.itemsize;
  const offset = ref.offset + from * dtype.itemsize;
  const bytes = scratch
    ? await readBytes(source, offset, length, scratch.bytes)
    : await source.read(offset, length);
  const n = Math.floor(bytes.byteLength / dtype.itemsize);
  const out = scratch && scratch.out.length >= n ? scratch.out.subarray(0, n) : new Float64Array(n);
  if (dtype.kind === 'i' && dtype.itemsize === 8 && dtype.littleEndian) {
    // (hi - baseHi) · 2^32 + (lo - baseLo): exact while the difference is < 2^53, without a BigInt per item.
    const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes); // a copy: Buffer#slice would share (and keep) the odd offset
    const w = new Uint32Array(aligned.buffer, aligned.byteOffset, n * 2);
    const baseHi = Number(BigInt.asIntN(32, base >> 32n));
    const baseLo = Number(BigInt.asUintN(32, base));
    for (let i = 0; i < n; i++)
      out[i] = (((w[2 * i + 1] as number) | 0) - baseHi) * 4294967296 + ((w[2 * i] as number) - baseLo);
    return out;
  }
  const raw = decodeBigInts(dtype, bytes, n);
  for (let i = 0; i < n; i++) out[i] = Number((raw[i] as bigint) - base);
  return out;
}

/** Stamps read around the interpolated guess: one 32 KiB read finds evenly spaced bounds without probes. */
const GUESS_ROWS = 4096;

/**
 * First row whose time is ≥ `target` (times are non-decreasing: the indexer checked). With the first and last
 * stamps, one block read around the interpolated position usually settles it (sensor clocks tick evenly); what
 * it does not settle is finished by binary search with ranged probes (each a read: slow under load).
 */
export async function lowerBound(
  source: ByteSource,
  ref: DataRef,
  rows: number,
  target: bigint,
  range?: { first: bigint; last: bigint },
): Promise<number> {
  let lo = 0;
  let hi = rows;
  if (range && rows > GUESS_ROWS && range.last > range.first) {
    const frac = Number(target - range.first) / Number(range.last - range.first);
    const guess = Math.round(Math.min(1, Math.max(0, frac)) * (rows - 1));
    const start = Math.min(rows - GUESS_ROWS, Math.max(0, guess - GUESS_ROWS / 2));
    const dtype = dtypeOf(ref.descr);
    const bytes = await source.read(ref.offset + start * dtype.itemsize, GUESS_ROWS * dtype.itemsize);
    const block = decodeBigInts(dtype, bytes, Math.floor(bytes.byteLength / dtype.itemsize));
    const n = block.length;
    if (n > 0 && (block[0] as bigint) >= target) hi = start;
    else if (n > 0 && (block[n - 1] as bigint) < target) lo = start + n;
    else if (n > 0) {
      let a = 0;
      let b = n;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if ((block[mid] as bigint) < target) a = mid + 1;
        else b = mid;
      }
      return start + a;
    }
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((await timeAt(source, ref, mid)) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
