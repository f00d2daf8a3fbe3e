import { rateLimit } from '@robotrace/db';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import { type BucketSpec, takeTokens } from '../../src/rate-limit.js';
import { coreOn, DATABASE_KINDS } from '../support/each-database.js';
import type { TempCore } from '../support/temp-core.js';

async function tokensOf(core: TempCore, bucket: string): Promise<number | undefined> {
  const [row] = await core.deps.db.select().from(rateLimit).where(eq(rateLimit.bucket, bucket));
  return row?.tokens;
}

describe.each(DATABASE_KINDS)('rate limits take from every bucket or none (%s)', (kind) => {
  const core = coreOn(kind);

  it("a request the project's budget refuses spends nothing of the key's budget", async () => {
    const c = core();
    const buckets: BucketSpec[] = [
      { bucket: `key:a-${kind}`, perMinute: 10 },
      { bucket: `project:p-${kind}`, perMinute: 1 },
    ];
    await takeTokens(c.deps, buckets); // clock frozen: no refill between calls
    expect(await tokensOf(c, `key:a-${kind}`)).toBe(9);
    for (let i = 0; i < 3; i++) {
      const refused = await takeTokens(c.deps, buckets).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(RateLimitError);
      expect((refused as RateLimitError).message).toContain('for this project');
    }
    expect(await tokensOf(c, `key:a-${kind}`)).toBe(9);
  });

  it("a request the key's budget refuses spends nothing of the project's budget", async () => {
    const c = core();
    const buckets: BucketSpec[] = [
      { bucket: `key:b-${kind}`, perMinute: 1 },
      { bucket: `project:q-${kind}`, perMinute: 10 },
    ];
    await takeTokens(c.deps, buckets);
    await expect(takeTokens(c.deps, buckets)).rejects.toThrow(/for this API key/);
    expect(await tokensOf(c, `project:q-${kind}`)).toBe(9);
    // Another key of the same project still gets its full share of the project's budget.
    await takeTokens(c.deps, [{ bucket: `key:c-${kind}`, perMinute: 1 }, buckets[1] as BucketSpec]);
    expect(await tokensOf(c, `project:q-${kind}`)).toBe(8);
  });

  it('refills by elapsed time on the injected clock and answers Retry-After from the emptiest bucket', async () => {
    const c = core();
    const buckets: BucketSpec[] = [
      { bucket: `key:d-${kind}`, perMinute: 60 },
      { bucket: `project:r-${kind}`, perMinute: 2 },
    ];
    await takeTokens(c.deps, buckets);
    await takeTokens(c.deps, buckets);
    const refused = (await takeTokens(c.deps, buckets).then(
      () => null,
      (e: unknown) => e,
    )) as RateLimitError;
    expect(refused.headers['retry-after']).toBe('30'); // 2 per minute: one token every 30 s
    c.clock.advance(30_000);
    await takeTokens(c.deps, buckets);
    // 58 after two, nothing spent by the refusal, +30 s refills to the cap of 60, one taken.
    expect(await tokensOf(c, `key:d-${kind}`)).toBeCloseTo(59, 5);
  });
});
