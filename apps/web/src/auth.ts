import { account, type Database, session, user, verification } from '@robotrace/db';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { APIError } from 'better-auth/api';
import { count } from 'drizzle-orm';

export interface AuthOptions {
  db: Database;
  secret: string;
  baseUrl: string;
  /** ROBOTRACE_ALLOW_SIGNUP: later sign-ups; the very first account (the owner) can always sign up. */
  allowSignup: boolean;
  trustedOrigins: (request?: Request) => string[] | Promise<string[]>;
}

/** Portal accounts: Better Auth email + password, its tables in our schema (packages/db). */
export function createAuth(o: AuthOptions) {
  return betterAuth({
    appName: 'RoboTrace',
    baseURL: o.baseUrl,
    basePath: '/api/auth',
    secret: o.secret,
    database: drizzleAdapter(o.db, { provider: 'pg', schema: { user, session, account, verification } }),
    emailAndPassword: { enabled: true, minPasswordLength: 8 },
    databaseHooks: {
      user: {
        create: {
          // Enforced here, below every route: sign-up is open for the first account only, unless allowed.
          before: async () => {
            if (o.allowSignup) return;
            const [row] = await o.db.select({ n: count() }).from(user);
            if ((row?.n ?? 0) > 0)
              throw new APIError('FORBIDDEN', {
                message: 'Sign-up is closed: ask the owner for an account (or set ROBOTRACE_ALLOW_SIGNUP=1)',
              });
          },
        },
      },
    },
    trustedOrigins: o.trustedOrigins,
    advanced: {
      cookiePrefix: 'robotrace',
      useSecureCookies: o.baseUrl.startsWith('https://'),
      // Better Auth turns its origin (CSRF) check off by itself when NODE_ENV=test or TEST is set; an
      // environment variable must never switch off CSRF protection, so it is on explicitly.
      disableOriginCheck: false,
    },
    telemetry: { enabled: false },
  });
}

export type Auth = ReturnType<typeof createAuth>;
