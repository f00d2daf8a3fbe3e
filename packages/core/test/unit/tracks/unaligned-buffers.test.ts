import { describe, expect, it } from 'vitest';
import { bufferSource } from '../../../src/tracks/byte-source.js';
import { decodeBigInts, decodeInto, dtypeOf } from '../../../src/tracks/npy.js';
import { timesOf } from '../../../src/tracks/sample-reader.js';
import { TimeScan } from '../../../src/tracks/scan.js';

/**
 * Node hands out Buffers at odd offsets of a shared pool (fs reads, zip members). Buffer#slice does not copy, so
 * an "aligned copy" made with it kept the odd offset (RangeError) or, read at offset 0, another item's bytes.
 */
function oddBuffer(fill: (view: DataView) => void, bytes: number): Buffer {
  const backing = new ArrayBuffer(bytes + 16);
  // Garbage around the data, so a view at the wrong offset reads wrong values, not zeros.
  new Uint8Array(backing).fill(0xab);
  fill(new DataView(backing, 3, bytes));
  return Buffer.from(backing, 3, bytes);
}

describe('typed views over unaligned Buffers', () => {
  const t = [1_796_000_000_000_000_000n, 1_796_000_000_010_000_000n, 1_796_000_000_020_000_000n];
  const stamps = oddBuffer((v) => {
    for (const [i, x] of t.entries()) v.setBigInt64(i * 8, x, true);
  }, 24);

  it('TimeScan reads int64 stamps at an odd offset', () => {
    const scan = new TimeScan(dtypeOf('<i8'));
    scan.push(stamps);
    expect([scan.first, scan.last, scan.monotonic, scan.items]).toEqual([t[0], t[2], true, 3]);
  });

  it('decodeBigInts and timesOf give the stamps, not the bytes around them', async () => {
    expect([...decodeBigInts(dtypeOf('<i8'), stamps, 3)]).toEqual(t);
    const rel = await timesOf(
      bufferSource(stamps),
      { in: 'artifact', offset: 0, descr: '<i8', shape: [3], fortran: false } as never,
      0,
      3,
      t[0] as bigint,
    );
    expect([...rel]).toEqual([0, 10_000_000, 20_000_000]);
  });

  it('decodeInto reads float32 values at an odd offset', () => {
    const f = oddBuffer((v) => {
      for (const [i, x] of [1.5, -2.25, 3].entries()) v.setFloat32(i * 4, x, true);
    }, 12);
    const out = new Float64Array(3);
    decodeInto(dtypeOf('<f4'), f, 3, out);
    expect([...out]).toEqual([1.5, -2.25, 3]);
  });
});
