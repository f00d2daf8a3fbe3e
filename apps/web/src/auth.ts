import { anyUserExists, consumeSignInAttempt, systemClock } from '@robotrace/core';
import { account, type Database, session, user, verification } from '@robotrace/db';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { APIError } from 'better-auth/api';

export interface AuthOptions {
  db: Database;
  secret: string;
  baseUrl: string;
  /** ROBOTRACE_ALLOW_SIGNUP: later sign-ups; the very first account (the owner) can always sign up. */
  allowSignup: boolean;
  trustedOrigins: (request?: Request) => string[] | Promise<string[]>;
  /** Sign-in and sign-up attempts per client IP per minute (0 = no limit). */
  signInPerMinute: number;
}

/** The header app.ts sets from the socket (or the trusted proxy), replacing any value a client sent. */
export const CLIENT_IP_HEADER = 'x-robotrace-client-ip';

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
            if (await anyUserExists({ db: o.db }))
              throw new APIError('FORBIDDEN', {
                message: 'Sign-up is closed: ask the owner for an account (or set ROBOTRACE_ALLOW_SIGNUP=1)',
              });
          },
        },
      },
    },
    trustedOrigins: o.trustedOrigins,
    // Better Auth limits sign-in only when NODE_ENV=production, which `npm start` does not set: on explicitly,
    // per client IP, counted in the database (the API limits' table), so all instances of a fleet share one
    // budget per IP instead of each granting its own.
    rateLimit:
      o.signInPerMinute > 0
        ? {
            enabled: true,
            customStorage: {
              consume: (key, rule) => consumeSignInAttempt({ db: o.db, clock: systemClock }, key, rule),
            },
            window: 60,
            max: 600,
            customRules: {
              '/sign-in/email': { window: 60, max: o.signInPerMinute },
              '/sign-up/email': { window: 60, max: o.signInPerMinute },
            },
          }
        : { enabled: false },
    advanced: {
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
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
