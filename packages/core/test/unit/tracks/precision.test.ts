import { describe, expect, it } from 'vitest';
import { shortestFloat32 } from '../../../src/tracks/precision.js';

/** The reference: the fewest significant digits (1…9) whose decimal reads back as the same float32. */
function fewestDigits(f: number): number {
  for (let p = 1; p <= 9; p++) if (Math.fround(Number(f.toPrecision(p))) === f) return p;
  return 17;
}
const digits = (v: number) => v.toExponential().split('e')[0]?.replace(/[-.]/g, '').length ?? 0;

/** Deterministic float32s from bit patterns (xorshift), so a failure names a value that reproduces. */
function* float32s(count: number, seed = 0x9e3779b9): Generator<number> {
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  let x = seed;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bits[0] = x >>> 0;
    yield f[0] as number;
  }
}

describe('shortestFloat32', () => {
  it('reads back as the same float32 for every finite float32 (random bit patterns, every exponent)', () => {
    let checked = 0;
    for (const f of float32s(200_000)) {
      if (!Number.isFinite(f)) continue;
      const short = shortestFloat32(f);
      if (Math.fround(short) !== f) throw new Error(`${f} printed as ${short} reads back differently`);
      checked++;
    }
    expect(checked).toBeGreaterThan(199_000);
  });

  it('prints the fewest digits (as toPrecision finds them), sensor-range values', () => {
    for (const f of float32s(50_000, 12345)) {
      const v = Math.fround(f % 1000); // |v| < 1000, every digit count
      if (!Number.isFinite(v) || v === 0 || Math.abs(v) < 1e-12) continue;
      const short = shortestFloat32(v);
      if (digits(short) !== fewestDigits(v))
        throw new Error(`${v}: ${short} has ${digits(short)} digits, ${fewestDigits(v)} suffice`);
    }
  });

  it('halves the JSON of float32 data against its float64 widening', () => {
    const samples = Array.from({ length: 2000 }, (_, i) => Math.fround(Math.sin(i / 7) * 3.7));
    const long = JSON.stringify(samples).length;
    const short = JSON.stringify(samples.map(shortestFloat32)).length;
    expect(short).toBeLessThan(long * 0.6);
    expect(JSON.stringify([0.1, 1 / 3, -2.5].map((v) => shortestFloat32(Math.fround(v))))).toBe(
      '[0.1,0.33333334,-2.5]',
    );
  });

  it('keeps 0, -0, NaN, ±Inf, the extremes and subnormals', () => {
    expect(shortestFloat32(0)).toBe(0);
    expect(Object.is(shortestFloat32(-0), -0)).toBe(true);
    expect(shortestFloat32(Number.NaN)).toBeNaN();
    expect(shortestFloat32(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(shortestFloat32(Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    expect(shortestFloat32(Math.fround(3.4028234663852886e38))).toBe(3.4028235e38);
    expect(shortestFloat32(Math.fround(-1.1754943508222875e-38))).toBe(-1.1754944e-38);
    expect(shortestFloat32(Math.fround(1.401298464324817e-45))).toBe(1e-45);
    expect(shortestFloat32(16777217)).toBe(16777216); // a float64 sample is first rounded to float32
  });
});
