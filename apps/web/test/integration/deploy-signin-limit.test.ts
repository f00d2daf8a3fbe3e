import { consumeSignInAttempt, pruneSignInBuckets, SIGN_IN_BUCKET_PREFIX, takeTokens } from '@robotrace/core';
import { createDb, rateLimit } from '@robotrace/db';
import { like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { startServer, TEST_EMAIL, type TestServer } from '../../../../test/support/server.js';

// Issue 19: the portal's sign-in limit is one budget per client IP for the whole fleet (counted in PostgreSQL, as
// the API limits are), and the portal's own login form is counted per client IP too — it used to reach Better
// Auth without the client-IP header, which then logged "could not determine a client IP" and put every form
// sign-in of every visitor into one shared bucket.
const SECRET = 'signin-fleet-secret-'.padEnd(64, 'x');
const LIMIT = 3;

let pgs: TestPostgres;
let databaseUrl: string;
let one: TestServer;
let two: TestServer;

beforeAll(async () => {
  pgs = await startPostgres();
  databaseUrl = await pgs.createDatabase();
  const env = {
    DATABASE_URL: databaseUrl,
    ROBOTRACE_SECRET: SECRET,
    ROBOTRACE_SIGNIN_ATTEMPTS_PER_MINUTE: String(LIMIT),
    // Behind a balancer: the client IP is the first X-Forwarded-For hop.
    ROBOTRACE_TRUST_PROXY: '1',
  };
  one = await startServer({ env });
  two = await startServer({ env: { ...env, ROBOTRACE_MIGRATE_ON_START: '' } });
}, 180_000);
afterAll(async () => {
  await Promise.all([one?.stop(), two?.stop()]);
  await pgs?.stop();
});

const apiSignIn = (s: TestServer, ip: string) =>
  fetch(`${s.baseUrl}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: s.baseUrl, 'x-forwarded-for': ip },
    body: JSON.stringify({ email: TEST_EMAIL, password: 'wrong-password' }),
  });

async function formSignIn(s: TestServer, ip: string): Promise<string> {
  const res = await fetch(`${s.baseUrl}/login`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: s.baseUrl,
      'x-forwarded-for': ip,
    },
    body: new URLSearchParams({ email: TEST_EMAIL, password: 'wrong-password', next: '/portal' }).toString(),
    redirect: 'manual',
  });
  const page = await res.text();
  if (page.includes('Too many attempts')) return 'limited';
  if (page.includes('Wrong email or password')) return 'wrong';
  return `unexpected ${res.status}`;
}

describe('portal sign-in limit across instances', () => {
  it('attempts through instance 1 count on instance 2 (one budget per IP in PostgreSQL)', async () => {
    const ip = '198.51.100.1';
    const statuses = [];
    for (let i = 0; i < LIMIT; i++) statuses.push((await apiSignIn(one, ip)).status);
    expect(statuses).toEqual(Array(LIMIT).fill(401));
    expect((await apiSignIn(two, ip)).status).toBe(429);
    expect((await apiSignIn(one, ip)).status).toBe(429);
    // Another client is not affected.
    expect((await apiSignIn(two, '198.51.100.9')).status).toBe(401);
  });

  it('the login form is limited per client IP, not in one bucket shared by every visitor', async () => {
    const results = [];
    for (let i = 0; i < LIMIT; i++) results.push(await formSignIn(i % 2 ? one : two, '203.0.113.5'));
    expect(results).toEqual(Array(LIMIT).fill('wrong'));
    expect(await formSignIn(one, '203.0.113.5')).toBe('limited');
    expect(await formSignIn(two, '203.0.113.6')).toBe('wrong');
    for (const s of [one, two]) expect(s.output()).not.toContain('could not determine a client IP');
  });
});

describe('sign-in buckets in the database', () => {
  it("are pruned once stale (a full bucket is the same as none), and never the API limits' buckets", async () => {
    const dbh = await createDb({ kind: 'postgres', url: databaseUrl });
    try {
      const at = (iso: string) => ({ db: dbh.db, clock: { now: () => new Date(iso) } });
      const rule = { window: 60, max: 2 };
      expect(await consumeSignInAttempt(at('2026-01-01T00:00:00Z'), 'old|/sign-in/email', rule)).toEqual({
        allowed: true,
        retryAfter: null,
      });
      await consumeSignInAttempt(at('2026-01-01T00:00:01Z'), 'old|/sign-in/email', rule);
      const third = await consumeSignInAttempt(at('2026-01-01T00:00:02Z'), 'old|/sign-in/email', rule);
      expect(third.allowed).toBe(false);
      expect(third.retryAfter).toBeGreaterThanOrEqual(1);
      await consumeSignInAttempt(at('2026-01-01T02:00:00Z'), 'recent|/sign-in/email', rule);
      await takeTokens(at('2026-01-01T00:00:00Z'), [{ bucket: 'key:prune-test', perMinute: 5 }]);

      expect(await pruneSignInBuckets(at('2026-01-01T02:30:00Z'), 3_600_000)).toBe(1);
      const left = await dbh.db
        .select({ bucket: rateLimit.bucket })
        .from(rateLimit)
        .where(like(rateLimit.bucket, `${SIGN_IN_BUCKET_PREFIX}%`));
      expect(left.map((r) => r.bucket)).toContain(`${SIGN_IN_BUCKET_PREFIX}recent|/sign-in/email`);
      expect(left.map((r) => r.bucket)).not.toContain(`${SIGN_IN_BUCKET_PREFIX}old|/sign-in/email`);
      const api = await dbh.db.select().from(rateLimit).where(like(rateLimit.bucket, 'key:prune-test'));
      expect(api).toHaveLength(1);
    } finally {
      await dbh.close();
    }
  });
});
