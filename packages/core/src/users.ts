import { projectMember, user } from '@robotrace/db';
import { and, eq, notExists } from 'drizzle-orm';
import type { DbDeps } from './deps.js';

/** Whether any portal user exists yet (the first visitor creates the owner account). */
export async function anyUserExists(deps: DbDeps): Promise<boolean> {
  const rows = await deps.db.select({ id: user.id }).from(user).limit(1);
  return rows.length > 0;
}

/**
 * Undoes a sign-up whose project could not be created (its name was taken meanwhile): the account, its
 * credential and session go (foreign keys cascade). A user who belongs to any project is never removed.
 */
export async function discardNewUser(deps: DbDeps, userId: string): Promise<void> {
  await deps.db
    .delete(user)
    .where(
      and(
        eq(user.id, userId),
        notExists(
          deps.db
            .select({ one: projectMember.userId })
            .from(projectMember)
            .where(eq(projectMember.userId, userId)),
        ),
      ),
    );
}
