import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openFileSource, readChunksReusing } from '../../../src/tracks/byte-source.js';
import { dtypeOf } from '../../../src/tracks/npy.js';
import { FiniteScan } from '../../../src/tracks/scan.js';
import { countNonFiniteSimd } from '../../../src/tracks/simd-count.js';

/** Values with NaN/±Inf at the given indices, and the reference count (Number.isFinite, one value at a time). */
function floats(ctor: Float32ArrayConstructor | Float64ArrayConstructor, n: number, bad: number[]) {
  const a = new ctor(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i) * 10 ** ((i % 60) - 30);
  const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  bad.forEach((at, k) => {
    a[at] = specials[k % 3] as number;
  });
  // Also the largest finite values and subnormals, whose exponents are one step from all ones / all zeros.
  if (n > 3) {
    a[n - 2] = ctor === Float32Array ? 3.4028234663852886e38 : Number.MAX_VALUE;
    a[1] = ctor === Float32Array ? 1e-45 : 5e-324;
  }
  const reference = [...a].filter((v) => !Number.isFinite(v)).length;
  return { bytes: new Uint8Array(a.buffer), reference };
}

describe('NaN/Inf count', () => {
  const cases: [string, Float32ArrayConstructor | Float64ArrayConstructor, 4 | 8][] = [
    ['float32', Float32Array, 4],
    ['float64', Float64Array, 8],
  ];
  for (const [label, ctor, size] of cases) {
    it(`${label}: the SIMD count equals the reference, at the edges of blocks and past one 1 MiB pass`, () => {
      // Lengths that leave every possible tail after the 16-byte blocks, and one over the 1 MiB memory.
      for (const n of [0, 1, 2, 3, 5, 17, 1000, (1 << 20) / size + 3]) {
        const bad = [0, n - 1, Math.floor(n / 2), Math.floor(n / 3), (1 << 20) / size].filter(
          (i) => i >= 0 && i < n,
        );
        const { bytes, reference } = floats(ctor, n, [...new Set(bad)]);
        expect(countNonFiniteSimd(bytes, size), `n=${n}`).toBe(reference);
      }
    });

    it(`${label}: FiniteScan counts the same when chunks split values`, () => {
      const { bytes, reference } = floats(ctor, 4099, [7, 1024, 4098]);
      expect(reference).toBe(3);
      const scan = new FiniteScan(dtypeOf(size === 4 ? '<f4' : '<f8'));
      for (let at = 0; at < bytes.byteLength; at += 1001) scan.push(bytes.subarray(at, at + 1001));
      expect([scan.nonFinite, scan.items]).toEqual([3, 4099]);
    });
  }
});

describe('readChunksReusing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rt-reuse-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams the same bytes as one read, and a scan that keeps a split item across chunks counts right', async () => {
    // float32 values whose 1 MiB chunks do not end on an item boundary (data starts 3 bytes in).
    const { bytes, reference } = floats(Float32Array, 600_000, [262_144, 599_999, 10]);
    const file = new Uint8Array(3 + bytes.byteLength);
    file.set(bytes, 3);
    const path = join(dir, 'data.bin');
    writeFileSync(path, file);
    const source = await openFileSource(path);
    try {
      const scan = new FiniteScan(dtypeOf('<f4'));
      const seen: number[] = [];
      let total = 0;
      let same = true;
      for await (const chunk of readChunksReusing(source, 3, bytes.byteLength, 65_537)) {
        same &&= chunk.every((b, i) => b === bytes[total + i]);
        total += chunk.byteLength;
        seen.push(chunk.byteLength);
        scan.push(chunk);
      }
      expect(total).toBe(bytes.byteLength);
      expect(same).toBe(true);
      expect(seen.length).toBeGreaterThan(30);
      expect([scan.nonFinite, scan.items]).toEqual([reference, 600_000]);
    } finally {
      await source.close();
    }
  });
});
