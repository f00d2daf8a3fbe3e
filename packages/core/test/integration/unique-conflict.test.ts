import { apiKey, project, projectMember } from '@robotrace/db';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import { createApiKey, createProject, findProjectByName } from '../../src/projects.js';
import { uniqueViolation } from '../../src/unique.js';
import { coreOn, DATABASE_KINDS } from '../support/each-database.js';

describe.each(DATABASE_KINDS)('a unique-constraint race is a 409 (%s)', (kind) => {
  const core = coreOn(kind);

  it('recognises the driver error drizzle wraps as `cause`', async () => {
    const { deps } = core();
    await deps.db.insert(project).values({ id: crypto.randomUUID(), name: 'raw-dup' });
    const err = await deps.db
      .insert(project)
      .values({ id: crypto.randomUUID(), name: 'raw-dup' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(Error);
    expect(uniqueViolation(err)).toEqual({ constraint: 'project_name_unique' });
  });

  it('two projects racing for one name: one is created with its owner, the other is a ConflictError', async () => {
    const { deps, addUser } = core();
    const [alice, bob] = [await addUser(`alice-${kind}@x`), await addUser(`bob-${kind}@x`)];
    const results = await Promise.allSettled([
      createProject(deps, 'contested', alice),
      createProject(deps, 'contested', bob),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(ConflictError);
    expect((lost[0] as ConflictError).status).toBe(409);
    expect((lost[0] as ConflictError).details).toEqual({ reason: 'project_name_taken' });
    const created = await findProjectByName(deps, 'contested');
    const members = await deps.db
      .select()
      .from(projectMember)
      .where(eq(projectMember.projectId, created?.id ?? ''));
    expect(members).toHaveLength(1); // the loser left no membership behind
  });

  it('an injected API key that already exists is a ConflictError, and nothing is stored twice', async () => {
    const { deps } = core();
    const p = await createProject(deps, `keys-${kind}`);
    const key = 'rt_from_your_vault_0123456789_dup';
    await createApiKey(deps, { projectId: p.id }, 'first', key);
    await expect(createApiKey(deps, { projectId: p.id }, 'again', key)).rejects.toBeInstanceOf(ConflictError);
    expect(await deps.db.select().from(apiKey).where(eq(apiKey.projectId, p.id))).toHaveLength(1);
  });
});

describe('uniqueViolation', () => {
  it('ignores errors that are not unique violations', () => {
    expect(uniqueViolation(new Error('boom'))).toBeNull();
    expect(uniqueViolation(Object.assign(new Error('fk'), { code: '23503' }))).toBeNull();
    expect(uniqueViolation(null)).toBeNull();
  });
});
