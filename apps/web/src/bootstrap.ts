import { randomUUID } from 'node:crypto';
import { apiKeyExists, createApiKey, createProject, findProjectByName } from '@robotrace/core';
import { account, type Database, projectMember, user } from '@robotrace/db';
import { hashPassword } from 'better-auth/crypto';
import { and, eq } from 'drizzle-orm';
import type { Env } from './env.js';
import type { Logger } from './log.js';

/** Creates a portal user the way Better Auth would (credential account, scrypt hash); no-op when present. */
export async function ensureUser(db: Database, email: string, password: string): Promise<string> {
  const normalized = email.toLowerCase();
  const [existing] = await db.select({ id: user.id }).from(user).where(eq(user.email, normalized));
  if (existing) return existing.id;
  const id = randomUUID();
  const now = new Date();
  await db.transaction(async (tx) => {
    await tx.insert(user).values({
      id,
      email: normalized,
      name: normalized.split('@')[0] ?? normalized,
      emailVerified: true,
      createdAt: now,
      updatedAt: now,
    });
    await tx.insert(account).values({
      id: randomUUID(),
      accountId: id,
      providerId: 'credential',
      userId: id,
      password: await hashPassword(password),
      createdAt: now,
      updatedAt: now,
    });
  });
  return id;
}

/**
 * Headless bootstrap for scripts and CI (ROBOTRACE_INIT_*): the user, the project and the API key are
 * created when missing, so restarts with the same values change nothing.
 */
export async function bootstrap(db: Database, env: Env, log: Logger): Promise<void> {
  if (!env.ROBOTRACE_INIT_PROJECT) return;
  const userId =
    env.ROBOTRACE_INIT_EMAIL && env.ROBOTRACE_INIT_PASSWORD
      ? await ensureUser(db, env.ROBOTRACE_INIT_EMAIL, env.ROBOTRACE_INIT_PASSWORD)
      : undefined;
  const project =
    (await findProjectByName({ db }, env.ROBOTRACE_INIT_PROJECT)) ??
    (await createProject({ db }, env.ROBOTRACE_INIT_PROJECT, userId));
  if (userId) {
    const [member] = await db
      .select()
      .from(projectMember)
      .where(and(eq(projectMember.projectId, project.id), eq(projectMember.userId, userId)));
    if (!member) await db.insert(projectMember).values({ projectId: project.id, userId, role: 'owner' });
  }
  const key = env.ROBOTRACE_INIT_API_KEY;
  if (key) {
    const owner = await apiKeyExists({ db }, key);
    if (owner && owner.projectId !== project.id)
      throw new Error('ROBOTRACE_INIT_API_KEY already belongs to another project');
    if (!owner) await createApiKey({ db }, { projectId: project.id }, 'bootstrap', key);
  }
  log.info('headless bootstrap applied', { project: project.name, user: env.ROBOTRACE_INIT_EMAIL ?? null });
}
