import { describe, expect, it } from 'vitest';
import { outcomeSucceeded } from '../../../src/insights/analyze.js';

/** The regression rule's input: did the replayed baseline succeed? Read as the official eval runner reads it. */
describe('outcomeSucceeded', () => {
  it.each([
    [{ success: true }, 'ready', true],
    [{ outcome: { success: false } }, 'ready', false],
    [{ lerobot_episode_outcome: { 'next.success': true } }, 'ready', true],
    [{ success: 'yes', outcome: { success: true } }, 'ready', true],
    [{}, 'failed', false],
    [{}, 'ready', null],
    [{ outcome: [true] }, 'ready', null],
  ])('%j (%s) → %s', (metadata, status, expected) => {
    expect(outcomeSucceeded(metadata as Record<string, unknown>, status)).toBe(expected);
  });
});
