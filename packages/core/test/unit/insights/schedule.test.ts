import { describe, expect, it } from 'vitest';
import type { CoreDeps } from '../../../src/deps.js';
import { insightsSettled, scheduleInsights } from '../../../src/insights/analyze.js';

/**
 * The finalize hook never throws into finalize and never stops: with a database that fails every call, each
 * scheduled analysis reports to onError, the queue drains, and nothing escapes as an unhandled rejection.
 */
describe('scheduleInsights', () => {
  it('a failing database is reported per job and does not stop the queue', async () => {
    const broken = new Proxy(
      {},
      {
        get: () => () => {
          throw new Error('database gone');
        },
      },
    );
    const deps = { db: broken, clock: { now: () => new Date() } } as unknown as CoreDeps;
    const errors: string[] = [];
    const onError = (err: unknown) => errors.push((err as Error).message);
    expect(() =>
      scheduleInsights(
        deps,
        { projectId: '00000000-0000-4000-8000-000000000001' },
        '00000000-0000-4000-8000-00000000000a',
        onError,
      ),
    ).not.toThrow();
    scheduleInsights(
      deps,
      { projectId: '00000000-0000-4000-8000-000000000001' },
      '00000000-0000-4000-8000-00000000000b',
      onError,
    );
    await insightsSettled();
    expect(errors).toEqual(['database gone', 'database gone']);
  });

  it('an id that names no episode does nothing', async () => {
    const calls: string[] = [];
    const db = new Proxy({}, { get: (_t, p) => () => calls.push(String(p)) });
    scheduleInsights(
      { db, clock: { now: () => new Date() } } as unknown as CoreDeps,
      { projectId: 'p' },
      'not-a-uuid',
    );
    await insightsSettled();
    expect(calls).toEqual([]);
  });
});
