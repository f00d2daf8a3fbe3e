import { user } from '@robotrace/db';
import type { DbDeps } from './deps.js';

/** Whether any portal user exists yet (the first visitor creates the owner account). */
export async function anyUserExists(deps: DbDeps): Promise<boolean> {
  const rows = await deps.db.select({ id: user.id }).from(user).limit(1);
  return rows.length > 0;
}
