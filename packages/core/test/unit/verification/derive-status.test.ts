import { describe, expect, it } from 'vitest';
import { deriveStatus } from '../../../src/verification/scenarios.js';

/** A verify result without a status takes it from the metrics (docs/EVALS.md). */
describe('deriveStatus', () => {
  it.each([
    [{ success_candidate: true }, undefined, 'pass'],
    [{ success_candidate: false }, undefined, 'fail'],
    [{ success_candidate: false }, 'boom', 'fail'],
    [{ success_candidate: 1 }, undefined, null],
    [{}, 'TypeError: x', 'error'],
    [{ reward_total_candidate: 3 }, null, null],
  ])('%j, error %s → %s', (metrics, error, expected) => {
    expect(deriveStatus(metrics, error)).toBe(expected);
  });
});
