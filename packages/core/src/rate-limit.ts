import { type Database, rateLimit } from '@robotrace/db';
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
 * Token buckets kept in the database, so every instance enforces the same limit. A request takes one token
 * from every bucket or from none: one statement per bucket refills by elapsed time and takes a token when one
 * is there; with several buckets they run in one transaction that rolls back when any of them is empty (row
 * locks, taken in bucket order, serialise concurrent requests on PostgreSQL).
 */
export async function takeTokens(deps: DbClockDeps, specs: BucketSpec[]): Promise<void> {
  const now = deps.clock.now();
  const ordered = [...specs].sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
  if (ordered.length === 0) return;
  if (ordered.length === 1) {
    const refused = await take(deps.db, ordered[0] as BucketSpec, now);
    if (refused) throw refused;
    return;
  }
  await deps.db.transaction(async (tx) => {
    const refusals: RateLimitError[] = [];
    for (const spec of ordered) {
      const refused = await take(tx, spec, now);
      if (refused) refusals.push(refused);
    }
    // Thrown inside the transaction: the tokens the other buckets gave are rolled back with it.
    const longest = refusals.sort((a, b) => retryAfter(b) - retryAfter(a))[0];
    if (longest) throw longest;
  });
}

const retryAfter = (e: RateLimitError) => (e.details as { retry_after_s: number }).retry_after_s;

/** Refills one bucket and takes a token when there is one; the refusal when there is not. */
async function take(db: Database, spec: BucketSpec, now: Date): Promise<RateLimitError | null> {
  const capacity = spec.perMinute;
  const perMs = spec.perMinute / 60_000;
  const refilled = sql`least(${capacity}::double precision, ${rateLimit.tokens} + greatest(0, extract(epoch from (${now.toISOString()}::timestamptz - ${rateLimit.updatedAt})) * 1000) * ${perMs}::double precision)`;
  const [row] = await db
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
  if (!row || row.allowed) return null;
  const retryAfterS = Math.max(1, Math.ceil((1 - row.tokens) / perMs / 1000));
  const what = spec.bucket.split(':')[0] === 'key' ? 'API key' : 'project';
  return new RateLimitError(
    `Rate limit of ${spec.perMinute} requests per minute reached for this ${what}; retry in ${retryAfterS} s`,
    retryAfterS,
  );
}
