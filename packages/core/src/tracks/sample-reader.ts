import type { ByteSource } from './byte-source.js';
import type { DataRef } from './model.js';
import { decodeBigInts, decodeInto, dtypeOf } from './npy.js';

/** Rows per read: bounds memory for any window (a 1M-row window is read in slices, never at once). */
export const ROWS_PER_READ = 16_384;

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
  for (let start = from; start < to; start += ROWS_PER_READ) {
    const count = Math.min(ROWS_PER_READ, to - start);
    const values = new Float64Array(count * cols);
    if (!ref.fortran || cols === 1) {
      const bytes = await source.read(ref.offset + start * cols * size, count * cols * size);
      decodeInto(dtype, bytes, Math.floor(bytes.byteLength / size), values);
    } else {
      const column = new Float64Array(count);
      for (let c = 0; c < cols; c++) {
        const bytes = await source.read(ref.offset + (c * n + start) * size, count * size);
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

/** Time stamps of rows [from, to) minus `base`, as numbers (exact while a span is < 2^53 ns ≈ 104 days). */
export async function timesOf(
  source: ByteSource,
  ref: DataRef,
  from: number,
  count: number,
  base: bigint,
): Promise<Float64Array> {
  const dtype = dtypeOf(ref.descr);
  const bytes = await source.read(ref.offset + from * dtype.itemsize, count * dtype.itemsize);
  const n = Math.floor(bytes.byteLength / dtype.itemsize);
  const out = new Float64Array(n);
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

/** First row whose time is ≥ `target` (times are non-decreasing: the indexer checked), by ranged probes. */
export async function lowerBound(
  source: ByteSource,
  ref: DataRef,
  rows: number,
  target: bigint,
): Promise<number> {
  let lo = 0;
  let hi = rows;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((await timeAt(source, ref, mid)) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
