import { randomUUID } from 'node:crypto';
import { account, apiKey, project, projectMember, rateLimit, user } from '@robotrace/db';
import { and, eq, like, lt, ne, sql } from 'drizzle-orm';
import { apiKeyPrefix, hashApiKey, isWellFormedApiKey } from './api-keys.js';
import type { DbClockDeps } from './deps.js';
import { ConflictError, RateLimitError, ValidationError } from './errors.js';
import { PROJECT_NAME, type ProjectRow } from './projects.js';
import { takeTokens } from './rate-limit.js';
import { storableText } from './storable.js';

/**
 * Serialises account set-up across processes: every instance of a fleet may carry ROBOTRACE_INIT_* and start at
 * the same moment, and the admin CLI may run meanwhile. Arbitrary and constant, distinct from the migrations' lock.
 */
const ACCOUNTS_LOCK_ID = 727_274_002;

export interface AccountsSpec {
  /** The project to find or create. */
  project: string;
  /** A portal user (a member of the project as its owner). The hash is Better Auth's (scrypt), made by the caller. */
  owner?: { email: string; passwordHash: string };
  /** An API key of the project, given in full (an operator's, from a vault). */
  apiKey?: { key: string; name: string };
  /** Refuse when some other portal user exists already (creating "the owner" on a database that has one). */
  firstUserOnly?: boolean;
}

export interface AccountsResult {
  project: ProjectRow;
  projectCreated: boolean;
  /** The owner's user id, when `owner` was given. */
  userId: string | null;
  userCreated: boolean;
  keyCreated: boolean;
}

/**
 * Finds or creates the owner, the project, the membership and the key, in one transaction under an advisory
 * lock: of N processes doing this at once one creates, the others wait and then find everything present, so
 * nobody fails on a unique constraint. Repeating it with the same values changes nothing (an existing user's
 * password is left as it is).
 */
export async function ensureAccounts(deps: DbClockDeps, spec: AccountsSpec): Promise<AccountsResult> {
  if (!PROJECT_NAME.test(spec.project))
    throw new ValidationError(
      `Invalid project name "${spec.project}": use 1–63 letters, digits, spaces, '.', '_' or '-'`,
    );
  if (spec.apiKey && !isWellFormedApiKey(spec.apiKey.key))
    throw new ValidationError('API keys are rt_ followed by 20–120 of [A-Za-z0-9_]');
  return deps.db.transaction(async (tx) => {
    // Transaction-scoped: released at commit or rollback, even if this process dies.
    await tx.execute(sql`select pg_advisory_xact_lock(${ACCOUNTS_LOCK_ID})`);
    const now = deps.clock.now();
    let userId: string | null = null;
    let userCreated = false;
    if (spec.owner) {
      const email = spec.owner.email.toLowerCase();
      const [existing] = await tx.select({ id: user.id }).from(user).where(eq(user.email, email));
      if (existing) userId = existing.id;
      else {
        if (spec.firstUserOnly) {
          const [other] = await tx
            .select({ email: user.email })
            .from(user)
            .where(ne(user.email, email))
            .limit(1);
          if (other)
            throw new ConflictError(
              `An owner account exists already (${other.email}): sign in with it (others sign up themselves with ROBOTRACE_ALLOW_SIGNUP=1)`,
            );
        }
        userId = randomUUID();
        userCreated = true;
        // The rows Better Auth writes for an email + password sign-up.
        await tx.insert(user).values({
          id: userId,
          email,
          name: email.split('@')[0] ?? email,
          emailVerified: true,
          createdAt: now,
          updatedAt: now,
        });
        await tx.insert(account).values({
          id: randomUUID(),
          accountId: userId,
          providerId: 'credential',
          userId,
          password: spec.owner.passwordHash,
          createdAt: now,
          updatedAt: now,
        });
      }
    }
    let [found] = await tx
      .select({ id: project.id, name: project.name })
      .from(project)
      .where(eq(project.name, spec.project));
    const projectCreated = !found;
    if (!found) {
      found = { id: randomUUID(), name: spec.project };
      await tx.insert(project).values(found);
    }
    if (userId)
      await tx
        .insert(projectMember)
        .values({ projectId: found.id, userId, role: 'owner' })
        .onConflictDoNothing();
    let keyCreated = false;
    if (spec.apiKey) {
      const hash = hashApiKey(spec.apiKey.key);
      const [stored] = await tx
        .select({ projectId: apiKey.projectId })
        .from(apiKey)
        .where(eq(apiKey.hash, hash));
      if (stored && stored.projectId !== found.id)
        throw new ConflictError('This API key already belongs to another project');
      if (!stored) {
        keyCreated = true;
        await tx.insert(apiKey).values({
          id: randomUUID(),
          projectId: found.id,
          name: storableText(spec.apiKey.name).value,
          prefix: apiKeyPrefix(spec.apiKey.key),
          hash,
        });
      }
    }
    return { project: found, projectCreated, userId, userCreated, keyCreated };
  });
}

/** Rate-limit buckets of the portal's sign-in (Better Auth's limiter) share the API's table under this prefix. */
export const SIGN_IN_BUCKET_PREFIX = 'auth:';

/**
 * One attempt against Better Auth's rule for `key` (client IP and path), in PostgreSQL like the API limits, so
 * every instance counts the same attempts: the API's token bucket (one atomic statement, so simultaneous attempts
 * cannot all pass a stale read) refilling `max` per `window` seconds, with one minute's worth as the burst — exactly
 * `max` for the 60-second rules RoboTrace sets (sign-in, sign-up, the default); Better Auth's own 10-second rules
 * (change-password, change-email: 3 per 10 s) get a burst of 18.
 */
export async function consumeSignInAttempt(
  deps: DbClockDeps,
  key: string,
  rule: { window: number; max: number },
): Promise<{ allowed: boolean; retryAfter: number | null }> {
  const perMinute = (rule.max * 60) / Math.max(1, rule.window);
  try {
    await takeTokens(deps, [{ bucket: `${SIGN_IN_BUCKET_PREFIX}${key}`, perMinute }]);
    return { allowed: true, retryAfter: null };
  } catch (err) {
    if (!(err instanceof RateLimitError)) throw err;
    return { allowed: false, retryAfter: (err.details as { retry_after_s: number }).retry_after_s };
  }
}

/** Sign-in buckets untouched for this long are full again (equivalent to absent): removes them. */
export async function pruneSignInBuckets(deps: DbClockDeps, olderThanMs: number): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - olderThanMs);
  const rows = await deps.db
    .delete(rateLimit)
    .where(and(like(rateLimit.bucket, `${SIGN_IN_BUCKET_PREFIX}%`), lt(rateLimit.updatedAt, cutoff)))
    .returning({ bucket: rateLimit.bucket });
  return rows.length;
}
