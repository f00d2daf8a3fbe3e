/** 10^0 … 10^22: every one exact as a double, so k / 10^n below is the double nearest the decimal k·10^-n. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** `f` rounded to `p` significant digits (`e` its decimal exponent), as the nearest double; NaN out of range. */
function roundTo(f: number, p: number, e: number): number {
  const n = p - 1 - e;
  if (n >= 0) {
    const s = POW10[n];
    return s === undefined ? Number.NaN : Math.round(f * s) / s;
  }
  const s = POW10[-n];
  return s === undefined ? Number.NaN : Math.round(f / s) * s;
}

/** 10^k for k in -46 … 39 as the nearest doubles: only compared with, to settle a decimal exponent. */
const DECADES = Float64Array.from({ length: 86 }, (_, i) => Number(`1e${i - 46}`));
const F32 = new Float32Array(1);
const F32_BITS = new Uint32Array(F32.buffer);

/** floor(log10(a)) for a positive float32, from its binary exponent and one or two comparisons (no log10). */
function decimalExponent(a: number): number {
  F32[0] = a;
  const binary = ((F32_BITS[0] as number) >>> 23) - 127; // subnormals come out low; the comparisons fix that
  let e = Math.floor(binary * Math.LOG10E * Math.LN2);
  while (e < 38 && a >= (DECADES[e + 47] as number)) e++;
  while (e > -46 && a < (DECADES[e + 46] as number)) e--;
  return e;
}

/** The slow, always-right path, for exponents the scaled one cannot reach (|f| < 1e-14 or ≥ 1e23). */
function shortestByText(f: number): number {
  for (let p = 1; p <= 9; p++) {
    const r = Number(f.toPrecision(p));
    if (Math.fround(r) === f) return r;
  }
  return f;
}

/**
 * The double with the fewest significant digits that still reads back as the same float32: JSON then prints
 * `0.33333334` for a float32 sample instead of its float64 widening `0.3333333432674408` (about half the
 * bytes), and `Math.fround(parsed) === stored` holds for every value, so nothing the user sees is lost.
 * 0, NaN and ±Inf come back as they are. Float32 needs at most 9 digits; this tries 7 first, then fewer or
 * more: about two roundings per value and no strings (toPrecision per digit count is ten times slower).
 */
export function shortestFloat32(v: number): number {
  const f = Math.fround(v);
  if (f === 0 || f - f !== 0) return f;
  const e = decimalExponent(f < 0 ? -f : f);
  let r = roundTo(f, 7, e);
  if (Number.isNaN(r)) return shortestByText(f);
  if (Math.fround(r) === f) {
    for (let p = 6; p >= 1; p--) {
      const fewer = roundTo(f, p, e);
      if (Math.fround(fewer) !== f) break;
      r = fewer;
    }
    return r;
  }
  for (let p = 8; p <= 9; p++) {
    r = roundTo(f, p, e);
    if (Math.fround(r) === f) return r;
  }
  // Out of the scaled range at 8–9 digits, or log10 rounded across a power of ten: the text path settles it.
  return shortestByText(f);
}
