import { describe, expect, it } from 'vitest';
import { AuthError } from '../../src/errors.js';
import {
  authenticateApiKey,
  cacheApiKeysFor,
  createApiKey,
  createProject,
  revokeApiKey,
} from '../../src/projects.js';
import { coreOn } from '../support/each-database.js';

const messageOf = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: unknown) => (e instanceof AuthError ? e.message : `not an AuthError: ${String(e)}`),
  );

describe('authenticateApiKey', () => {
  const core = coreOn('pglite');

  it('resolves a stored key to its project, and refuses it from the next request after revoking', async () => {
    const { deps } = core();
    const p = await createProject(deps, 'auth');
    const created = await createApiKey(deps, { projectId: p.id }, 'ci');
    expect(await authenticateApiKey(deps, created.key)).toEqual({ projectId: p.id, keyId: created.id });
    await revokeApiKey(deps, { projectId: p.id }, created.id);
    expect(await messageOf(authenticateApiKey(deps, created.key))).toMatch(/^Invalid or revoked API key/);
  });

  it('with the embedded cache on, a revoked key is refused on its very next request too', async () => {
    const { deps } = core();
    cacheApiKeysFor(deps); // what services.ts does for the embedded PGlite only this process opens
    const p = await createProject(deps, 'cached');
    const created = await createApiKey(deps, { projectId: p.id }, 'ci');
    expect((await authenticateApiKey(deps, created.key)).keyId).toBe(created.id);
    expect((await authenticateApiKey(deps, created.key)).keyId).toBe(created.id); // served from the cache
    await revokeApiKey(deps, { projectId: p.id }, created.id);
    expect(await messageOf(authenticateApiKey(deps, created.key))).toMatch(/^Invalid or revoked API key/);
  });

  it('words the 401 of a mistyped generated key by its checksum, and only of such a key', async () => {
    const { deps } = core();
    const p = await createProject(deps, 'typos');
    const { key } = await createApiKey(deps, { projectId: p.id }, 'ci');
    const typo = `${key.slice(0, 20)}${key[20] === 'a' ? 'b' : 'a'}${key.slice(21)}`;
    expect(await messageOf(authenticateApiKey(deps, typo))).toMatch(/checksum does not match/);
    // An unknown key of an injected shape has no checksum to check.
    expect(await messageOf(authenticateApiKey(deps, 'rt_unknown_vault_key_0123456789'))).toMatch(
      /^Invalid or revoked API key/,
    );
    // An injected key of any shape works.
    const injected = 'rt_from_your_vault_0123456789';
    await createApiKey(deps, { projectId: p.id }, 'vault', injected);
    expect((await authenticateApiKey(deps, injected)).projectId).toBe(p.id);
  });
});
