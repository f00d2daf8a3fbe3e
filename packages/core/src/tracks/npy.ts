/** `.npy` headers (format versions 1, 2 and 3) and the numeric dtypes we can plot. */

export class NpyError extends Error {}

export interface NumericDtype {
  /** numpy's `descr`, e.g. `<f4`, `>i8`, `|b1`. */
  descr: string;
  kind: 'f' | 'i' | 'u' | 'b';
  itemsize: number;
  littleEndian: boolean;
}

export interface NpyHeader {
  /** Bytes before the data (magic + lengths + header text). */
  headerBytes: number;
  descr: string;
  /** Null when the dtype is not plottable (object, strings, structured…); `unsupported` says why. */
  dtype: NumericDtype | null;
  unsupported: string | null;
  fortranOrder: boolean;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Longest header we accept; numpy's own are < 1 KiB, and v2/v3 allow 4 GiB. */
export const MAX_NPY_HEADER = 1 << 20;

/**
 * Parses the header from the first bytes of a member. Returns null when `bytes` is too short to hold the whole
 * header yet (the caller reads more); throws NpyError when the bytes are not a `.npy` at all.
 */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader | null {
  if (bytes.byteLength < 10) {
    if (!MAGIC.every((m, i) => i >= bytes.byteLength || bytes[i] === m)) throw new NpyError('bad magic');
    return null;
  }
  if (!MAGIC.every((m, i) => bytes[i] === m)) throw new NpyError('bad magic (not a .npy)');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let lenAt: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    lenAt = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) return null;
    headerLen = dv.getUint32(8, true);
    lenAt = 12;
  } else throw new NpyError(`unsupported .npy version ${major}`);
  if (headerLen > MAX_NPY_HEADER) throw new NpyError(`header of ${headerLen} bytes`);
  if (bytes.byteLength < lenAt + headerLen) return null;
  // v3 allows UTF-8 in the header; v1/v2 are latin-1 (only ASCII appears in what numpy writes).
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(lenAt, lenAt + headerLen),
  );
  const dict = parseHeaderDict(text);
  const shape = dict.shape;
  const { dtype, unsupported } = parseDescr(dict.descr);
  return {
    headerBytes: lenAt + headerLen,
    descr: dict.descr,
    dtype,
    unsupported,
    fortranOrder: dict.fortran,
    shape,
  };
}

/**
 * The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. We read it with
 * a strict pattern, never an evaluator; a structured descr (a list) is reported as unsupported.
 */
function parseHeaderDict(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const structured = /'descr'\s*:\s*\[/.test(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!fortran || !shape || (!descr && !structured)) throw new NpyError('malformed header');
  const dims = (shape[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => (/^\d+L?$/.test(s) ? Number.parseInt(s, 10) : Number.NaN));
  if (dims.some((d) => !Number.isSafeInteger(d))) throw new NpyError('malformed shape');
  return {
    descr: structured ? '(structured)' : (descr?.[1] ?? ''),
    fortran: fortran[1] === 'True',
    shape: dims,
  };
}

function parseDescr(descr: string): { dtype: NumericDtype | null; unsupported: string | null } {
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (!m) {
    if (descr === '|O' || descr.endsWith('O') || descr.includes('O8'))
      return { dtype: null, unsupported: 'object array (needs pickle): skipped, never unpickled' };
    return { dtype: null, unsupported: `dtype '${descr}' is not numeric` };
  }
  const kind = m[2] as NumericDtype['kind'];
  const itemsize = Number(m[3]);
  const ok =
    (kind === 'f' && (itemsize === 2 || itemsize === 4 || itemsize === 8)) ||
    ((kind === 'i' || kind === 'u') && [1, 2, 4, 8].includes(itemsize)) ||
    (kind === 'b' && itemsize === 1);
  if (!ok) return { dtype: null, unsupported: `dtype '${descr}' is not supported` };
  // '=' is native order; every machine numpy writes on here is little-endian, and '|' is single-byte.
  return { dtype: { descr, kind, itemsize, littleEndian: m[1] !== '>' }, unsupported: null };
}

/** Parses a numeric dtype string as stored in the index. */
export function dtypeOf(descr: string): NumericDtype {
  const { dtype, unsupported } = parseDescr(descr);
  if (!dtype) throw new NpyError(unsupported ?? 'bad dtype');
  return dtype;
}

function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

type TypedCtor = { new (buffer: ArrayBuffer, byteOffset: number, length: number): ArrayLike<number> };
const TYPED: Record<string, TypedCtor> = {
  f4: Float32Array,
  f8: Float64Array,
  i1: Int8Array,
  i2: Int16Array,
  i4: Int32Array,
  u1: Uint8Array,
  u2: Uint16Array,
  u4: Uint32Array,
  b1: Uint8Array,
};

/**
 * A typed-array view of little-endian items (this machine's order), copying only when the bytes are not
 * aligned for it. Null for what needs per-item decoding (big-endian, float16, 64-bit integers).
 */
function nativeView(dtype: NumericDtype, bytes: Uint8Array, count: number): ArrayLike<number> | null {
  const ctor = TYPED[`${dtype.kind}${dtype.itemsize}`];
  if (!ctor || (!dtype.littleEndian && dtype.itemsize > 1)) return null;
  if (bytes.byteOffset % dtype.itemsize === 0)
    return new ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
  // new Uint8Array(view) copies into a fresh buffer at offset 0; Buffer#slice would share the pooled one.
  const copy = new Uint8Array(bytes.subarray(0, count * dtype.itemsize));
  return new ctor(copy.buffer, 0, count);
}

/** Decodes `count` items of `dtype` from `bytes` (at `byteOffset`, contiguous) into `out` as float64. */
export function decodeInto(
  dtype: NumericDtype,
  bytes: Uint8Array,
  count: number,
  out: Float64Array,
  outOffset = 0,
): void {
  const view = nativeView(dtype, bytes, count);
  if (view) {
    if (dtype.kind === 'b') for (let i = 0; i < count; i++) out[outOffset + i] = (view[i] as number) ? 1 : 0;
    else out.set(view, outOffset);
    return;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dtype.littleEndian;
  const n = dtype.itemsize;
  const k = dtype.kind;
  for (let i = 0; i < count; i++) {
    const at = i * n;
    let v: number;
    if (k === 'f')
      v = n === 4 ? dv.getFloat32(at, le) : n === 8 ? dv.getFloat64(at, le) : half(dv.getUint16(at, le));
    else if (k === 'b') v = dv.getUint8(at) ? 1 : 0;
    else if (k === 'i')
      v =
        n === 1
          ? dv.getInt8(at)
          : n === 2
            ? dv.getInt16(at, le)
            : n === 4
              ? dv.getInt32(at, le)
              : Number(dv.getBigInt64(at, le));
    else
      v =
        n === 1
          ? dv.getUint8(at)
          : n === 2
            ? dv.getUint16(at, le)
            : n === 4
              ? dv.getUint32(at, le)
              : Number(dv.getBigUint64(at, le));
    out[outOffset + i] = v;
  }
}

/** Decodes int64/uint64/int32 time stamps exactly (BigInt), for `_t_ns`. */
export function decodeBigInts(dtype: NumericDtype, bytes: Uint8Array, count: number): BigInt64Array {
  if (dtype.kind === 'i' && dtype.itemsize === 8 && dtype.littleEndian) {
    const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes.subarray(0, count * 8));
    return new BigInt64Array(aligned.buffer, aligned.byteOffset, count);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new BigInt64Array(count);
  const le = dtype.littleEndian;
  for (let i = 0; i < count; i++) {
    const at = i * dtype.itemsize;
    if (dtype.itemsize === 8)
      out[i] = dtype.kind === 'u' ? BigInt.asIntN(64, dv.getBigUint64(at, le)) : dv.getBigInt64(at, le);
    else if (dtype.itemsize === 4)
      out[i] = BigInt(dtype.kind === 'u' ? dv.getUint32(at, le) : dv.getInt32(at, le));
    else if (dtype.itemsize === 2)
      out[i] = BigInt(dtype.kind === 'u' ? dv.getUint16(at, le) : dv.getInt16(at, le));
    else out[i] = BigInt(dtype.kind === 'u' ? dv.getUint8(at) : dv.getInt8(at));
  }
  return out;
}
