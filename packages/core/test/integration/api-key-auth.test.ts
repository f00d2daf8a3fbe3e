import { apiKey } from '@robotrace/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { AuthError } from '../../src/errors.js';
import {
  authenticateApiKey,
  cacheApiKeysFor,
  createApiKey,
  createProject,
  revokeApiKey,
} from '../../src/projects.js';
import { coreOn } from '../support/each-database.js';
import { type TempCore, tempCore } from '../support/temp-core.js';

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

describe('authenticateApiKey on a PostgreSQL shared by two instances (ROBOTRACE_API_KEY_CACHE_MS)', () => {
  const TTL_MS = 1000;
  let pg: TestPostgres | undefined;
  let a: TempCore | undefined;
  let b: TempCore | undefined;
  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    // Two handles on one database: what two server instances behind a load balancer are.
    a = await tempCore(url);
    b = await tempCore(url);
    cacheApiKeysFor(a.deps, TTL_MS);
    cacheApiKeysFor(b.deps, TTL_MS);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await pg?.stop();
  });
  const both = () => {
    if (!a || !b) throw new Error('not started');
    return { a, b };
  };

  it('a key revoked by another instance is refused here once the cache entry expires (ROBOTRACE_API_KEY_CACHE_MS)', async () => {
    const { a, b } = both();
    const p = await createProject(a.deps, 'shared');
    const created = await createApiKey(a.deps, { projectId: p.id }, 'fleet');
    expect((await authenticateApiKey(a.deps, created.key)).keyId).toBe(created.id);
    expect((await authenticateApiKey(b.deps, created.key)).keyId).toBe(created.id);
    // Another process's revokeApiKey: the row changes, and only that process's caches are emptied.
    await b.deps.db.update(apiKey).set({ revokedAt: b.clock.now() }).where(eq(apiKey.id, created.id));
    // The documented bound: instance a trusts what it verified for at most TTL_MS of its clock.
    expect(await messageOf(authenticateApiKey(a.deps, created.key))).toBe('accepted');
    a.clock.advance(TTL_MS);
    expect(await messageOf(authenticateApiKey(a.deps, created.key))).toMatch(/^Invalid or revoked API key/);
  });

  it('a key revoked through this instance is refused at once, though the cache held it', async () => {
    const { a } = both();
    const p = await createProject(a.deps, 'own');
    const created = await createApiKey(a.deps, { projectId: p.id }, 'ci');
    expect((await authenticateApiKey(a.deps, created.key)).keyId).toBe(created.id);
    await revokeApiKey(a.deps, { projectId: p.id }, created.id);
    expect(await messageOf(authenticateApiKey(a.deps, created.key))).toMatch(/^Invalid or revoked API key/);
  });

  it('a lookup still in flight when the key is revoked does not put the key back into the cache', async () => {
    const { a } = both();
    const p = await createProject(a.deps, 'race');
    const created = await createApiKey(a.deps, { projectId: p.id }, 'ci');
    const early = authenticateApiKey(a.deps, created.key).catch(() => undefined);
    await revokeApiKey(a.deps, { projectId: p.id }, created.id);
    await early;
    expect(await messageOf(authenticateApiKey(a.deps, created.key))).toMatch(/^Invalid or revoked API key/);
  });

  it('concurrent requests of one key share one lookup, and a new key works at once', async () => {
    const { a, b } = both();
    const p = await createProject(a.deps, 'concurrent');
    const created = await createApiKey(b.deps, { projectId: p.id }, 'new'); // made through the other instance
    const results = await Promise.all(
      Array.from({ length: 20 }, () => authenticateApiKey(a.deps, created.key)),
    );
    expect(new Set(results.map((r) => r.keyId))).toEqual(new Set([created.id]));
  });
});
