import { rateLimit } from '@robotrace/db';
import { sql } from 'drizzle-orm';
import type { DbClockDeps } from './deps.js';
import { RateLimitError } from './errors.js';

export interface BucketSpec {
  /** e.g. `key:<id>` or `project:<id>` */
  bucket: string;
  /** Sustained requests per minute; the bucket holds one minute's worth (the burst). */
  perMinute: number;
}

/**
 * Token buckets kept in the database, so every instance enforces the same limit. One statement per bucket
 * refills by elapsed time, takes a token when one is there, and reports whether it did.
 */
export async function takeTokens(deps: DbClockDeps, specs: BucketSpec[]): Promise<void> {
  const now = deps.clock.now();
  for (const spec of specs) {
    const capacity = spec.perMinute;
    const perMs = spec.perMinute / 60_000;
    const refilled = sql`least(${capacity}::double precision, ${rateLimit.tokens} + greatest(0, extract(epoch from (${now.toISOString()}::timestamptz - ${rateLimit.updatedAt})) * 1000) * ${perMs}::double precision)`;
    const [row] = await deps.db
      .insert(rateLimit)
      .values({ bucket: spec.bucket, tokens: capacity - 1, lastAllowed: true, updatedAt: now })
      .onConflictDoUpdate({
        target: rateLimit.bucket,
        set: {
          tokens: sql`case when ${refilled} >= 1 then ${refilled} - 1 else ${refilled} end`,
          lastAllowed: sql`${refilled} >= 1`,
          updatedAt: now,
        },
      })
      .returning({ tokens: rateLimit.tokens, allowed: rateLimit.lastAllowed });
    if (row && !row.allowed) {
      const retryAfterS = Math.max(1, Math.ceil((1 - row.tokens) / perMs / 1000));
      throw new RateLimitError(
        `Rate limit of ${spec.perMinute} requests per minute reached for this ${spec.bucket.split(':')[0] === 'key' ? 'API key' : 'project'}; retry in ${retryAfterS} s`,
        retryAfterS,
      );
    }
  }
}
