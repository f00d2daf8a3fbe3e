import type { TrackWindow } from '@robotrace/contracts';
import type { Columnar } from './downsample.js';

/**
 * One column of numbers as JSON. TypedArray#join prints each value as JSON.stringify would (the shortest
 * round-trip text, `0` for -0, `1e+21` style exponents) straight from the typed array, with no boxed number per
 * value; only a column with a gap (NaN → null) goes value by value.
 */
function numbers(a: Float64Array): string {
  for (let i = 0; i < a.length; i++)
    if (Number.isNaN(a[i])) return Array.from(a, (v) => (Number.isNaN(v) ? 'null' : String(v))).join(',');
  return a.join(',');
}

/**
 * The window as JSON.stringify would print `{ ...head, t_ns, series }` — same keys, same order, same numbers —
 * from the built typed arrays: a 12-column, 2,000-point window is 48,000 values, and building them as arrays
 * of numbers first cost as much as printing them.
 */
export function windowJson(head: TrackWindow, values: Columnar): string {
  const { t_ns: _t, series: _s, ...fields } = head;
  const series = head.columns.map(
    (column, c) =>
      `{"column":${JSON.stringify(column)},"min":[${numbers(values.min[c] ?? new Float64Array(0))}],"max":[${numbers(values.max[c] ?? new Float64Array(0))}]}`,
  );
  const start = JSON.stringify(fields);
  return `${start.slice(0, -1)},"t_ns":[${numbers(values.t)}],"series":[${series.join(',')}]}`;
}
