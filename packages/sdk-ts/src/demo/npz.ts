/**
 * A minimal writer of numpy's NPZ (what `numpy.savez` writes: a zip of `.npy` members, stored uncompressed), so the
 * demo can log sensor and action files in the layout the official adapters upload without any dependency.
 * Only plain dtypes: nothing here ever needs pickle to load (`numpy.load(..., allow_pickle=False)` reads it).
 */

export type NpyArray =
  | { dtype: 'float32' | 'float64'; shape: readonly number[]; data: ArrayLike<number> }
  | { dtype: 'int64'; shape: readonly number[]; data: ArrayLike<bigint> }
  | { dtype: 'bool'; shape: readonly number[]; data: ArrayLike<boolean> }
  | { dtype: 'unicode'; shape: readonly number[]; data: readonly string[] };

const MAGIC = [0x93, ...Buffer.from('NUMPY'), 1, 0];

/** numpy's `descr` and bytes per element of an array (unicode: UTF-32 code units of the longest string). */
function layout(array: NpyArray): { descr: string; itemSize: number } {
  switch (array.dtype) {
    case 'float32':
      return { descr: '<f4', itemSize: 4 };
    case 'float64':
      return { descr: '<f8', itemSize: 8 };
    case 'int64':
      return { descr: '<i8', itemSize: 8 };
    case 'bool':
      return { descr: '|b1', itemSize: 1 };
    case 'unicode': {
      const chars = Math.max(1, ...array.data.map((s) => [...s].length));
      return { descr: `<U${chars}`, itemSize: 4 * chars };
    }
  }
}

/** One `.npy` file (format 1.0): magic, a Python-literal header padded so the data starts 64-byte aligned, data. */
export function npy(array: NpyArray): Uint8Array {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (!array.shape.every((n) => Number.isInteger(n) && n >= 0) || count !== array.data.length)
    throw new Error(`npy: shape (${array.shape.join(', ')}) does not hold ${array.data.length} values`);
  const { descr, itemSize } = layout(array);
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = MAGIC.length + 2 + header.length + 1;
  header = `${header}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = new Uint8Array(MAGIC.length + 2 + header.length + count * itemSize);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  view.setUint16(MAGIC.length, header.length, true);
  out.set(Buffer.from(header, 'latin1'), MAGIC.length + 2);
  const at = MAGIC.length + 2 + header.length;
  for (let i = 0; i < count; i++) {
    const offset = at + i * itemSize;
    if (array.dtype === 'float32') view.setFloat32(offset, array.data[i] as number, true);
    else if (array.dtype === 'float64') view.setFloat64(offset, array.data[i] as number, true);
    else if (array.dtype === 'int64') view.setBigInt64(offset, array.data[i] as bigint, true);
    else if (array.dtype === 'bool') view.setUint8(offset, array.data[i] ? 1 : 0);
    else
      [...(array.data[i] as string)].forEach((ch, j) => {
        view.setUint32(offset + 4 * j, ch.codePointAt(0) as number, true);
      });
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A zip of `<key>.npy` members, stored (method 0), as `numpy.savez(file, **members)` would lay it out. */
export function npz(members: Record<string, NpyArray>): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [key, array] of Object.entries(members)) {
    const name = Buffer.from(`${key}.npy`, 'utf8');
    const data = npy(array);
    const crc = crc32(data);
    // Fixed fields shared by the local header (from "version needed") and the central directory entry.
    const common = (view: DataView, at: number) => {
      view.setUint16(at, 20, true); // version needed: 2.0
      view.setUint16(at + 2, 0x0800, true); // names are UTF-8
      view.setUint16(at + 4, 0, true); // stored
      view.setUint16(at + 6, 0, true); // 00:00:00
      view.setUint16(at + 8, 0x21, true); // 1980-01-01, so the same arrays give the same bytes
      view.setUint32(at + 10, crc, true);
      view.setUint32(at + 14, data.length, true);
      view.setUint32(at + 18, data.length, true);
      view.setUint16(at + 22, name.length, true);
    };
    const local = new Uint8Array(30 + name.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    common(lv, 4);
    local.set(name, 30);
    local.set(data, 30 + name.length);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true); // made by: 2.0
    common(cv, 6);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const directory = centrals.reduce((n, c) => n + c.length, 0);
  // No zip64: the demo's files are a few kilobytes; refuse rather than write a zip readers would reject.
  if (offset + directory > 0xffffffff || centrals.length > 0xffff)
    throw new Error('npz: too large for zip32');
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, centrals.length, true);
  ev.setUint16(10, centrals.length, true);
  ev.setUint32(12, directory, true);
  ev.setUint32(16, offset, true);
  return Buffer.concat([...locals, ...centrals, end]);
}
