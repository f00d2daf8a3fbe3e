import { ensureAccounts, systemClock } from '@robotrace/core';
import type { Database } from '@robotrace/db';
import { hashPassword } from 'better-auth/crypto';
import type { Env } from './env.js';
import type { Logger } from './log.js';

/**
 * Headless bootstrap for scripts, CI and fleets (ROBOTRACE_INIT_*): the user, the project and the API key are
 * created when missing. Every instance of a fleet may carry the same values and start at once: core serialises
 * the set-up under an advisory lock, so one creates and the others find it done.
 */
export async function bootstrap(db: Database, env: Env, log: Logger): Promise<void> {
  if (!env.ROBOTRACE_INIT_PROJECT) return;
  const { ROBOTRACE_INIT_EMAIL: email, ROBOTRACE_INIT_PASSWORD: password, ROBOTRACE_INIT_API_KEY: key } = env;
  const result = await ensureAccounts(
    { db, clock: systemClock },
    {
      project: env.ROBOTRACE_INIT_PROJECT,
      // Better Auth's own hash (scrypt), so the portal's sign-in accepts the password.
      owner: email && password ? { email, passwordHash: await hashPassword(password) } : undefined,
      apiKey: key ? { key, name: 'bootstrap' } : undefined,
    },
  );
  log.info('headless bootstrap applied', {
    project: result.project.name,
    user: email ?? null,
    created: [
      result.userCreated ? 'user' : null,
      result.projectCreated ? 'project' : null,
      result.keyCreated ? 'api key' : null,
    ].filter(Boolean),
  });
}
