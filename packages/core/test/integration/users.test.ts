import { user } from '@robotrace/db';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createProject } from '../../src/projects.js';
import { anyUserExists, discardNewUser } from '../../src/users.js';
import { coreOn } from '../support/each-database.js';

describe('discardNewUser (undoing a sign-up whose project lost the race)', () => {
  const core = coreOn('pglite');

  it('removes a user with no project, never one who belongs to a project', async () => {
    const { deps, addUser } = core();
    expect(await anyUserExists(deps)).toBe(false);
    const member = await addUser('member@x');
    const stray = await addUser('stray@x');
    await createProject(deps, 'owned', member);
    await discardNewUser(deps, member);
    await discardNewUser(deps, stray);
    const left = await deps.db.select({ id: user.id }).from(user);
    expect(left.map((u) => u.id)).toEqual([member]);
    expect(await deps.db.select().from(user).where(eq(user.id, stray))).toEqual([]);
  });
});
