import { describe, expect, it } from 'vitest';
import { bufferSource } from '../../../src/tracks/byte-source.js';
import type { DataRef } from '../../../src/tracks/model.js';
import { lowerBound } from '../../../src/tracks/sample-reader.js';

/** int64 stamps as a stored array, and the reference readers use for it. */
function stamps(values: bigint[]) {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    view.setBigInt64(i * 8, v, true);
  });
  const ref = { in: 'artifact', offset: 0, descr: '<i8', shape: [values.length], fortran: false } as DataRef;
  return { source: bufferSource(bytes), ref };
}
const naive = (values: bigint[], target: bigint) => {
  const i = values.findIndex((v) => v >= target);
  return i < 0 ? values.length : i;
};

describe('lowerBound with the interpolation guess', () => {
  // Even ticks (the guess lands), a burst and a pause (it does not), repeated stamps, absolute epoch times.
  const t0 = 1_796_000_000_000_000_000n;
  const shapes: Record<string, bigint[]> = {
    even: Array.from({ length: 20_000 }, (_, i) => t0 + BigInt(i) * 10_000_000n),
    uneven: Array.from(
      { length: 20_000 },
      (_, i) => t0 + BigInt(i < 15_000 ? i : 15_000 + (i - 15_000) * 1000),
    ),
    repeats: Array.from({ length: 9_000 }, (_, i) => t0 + BigInt(Math.floor(i / 7))),
  };
  for (const [name, values] of Object.entries(shapes))
    it(`finds the same row as a scan (${name})`, async () => {
      const { source, ref } = stamps(values);
      const range = { first: values[0] as bigint, last: values[values.length - 1] as bigint };
      const first = values[0] as bigint;
      const last = values[values.length - 1] as bigint;
      const targets = [first - 5n, first, last, last + 1n, (first + last) / 2n];
      for (let k = 0; k < 200; k++)
        targets.push(first + BigInt(Math.floor(Math.random() * Number(last - first + 2n))));
      for (const target of targets) {
        const want = naive(values, target);
        expect(await lowerBound(source, ref, values.length, target, range), String(target - first)).toBe(
          want,
        );
        expect(await lowerBound(source, ref, values.length, target)).toBe(want);
      }
    });
});
