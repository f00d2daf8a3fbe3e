import { randomUUID } from 'node:crypto';
import { apiKey, type Database, project, projectMember } from '@robotrace/db';
import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import { apiKeyPrefix, generateApiKey, hasBadChecksum, hashApiKey, isWellFormedApiKey } from './api-keys.js';
import type { DbClockDeps, DbDeps, ProjectScope } from './deps.js';
import { AuthError, ConflictError, NotFoundError, ValidationError } from './errors.js';
import { isUuid } from './ids.js';
import { prepared } from './prepared.js';
import { storableText } from './storable.js';
import { conflictOnDuplicate } from './unique.js';

export const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/;

export interface ProjectRow {
  id: string;
  name: string;
}

export async function findProjectByName(deps: DbDeps, name: string): Promise<ProjectRow | null> {
  const [row] = await deps.db
    .select({ id: project.id, name: project.name })
    .from(project)
    .where(eq(project.name, name));
  return row ?? null;
}

export async function createProject(deps: DbDeps, name: string, ownerUserId?: string): Promise<ProjectRow> {
  if (!PROJECT_NAME.test(name))
    throw new ValidationError(
      `Invalid project name "${name}": use 1–63 letters, digits, spaces, '.', '_' or '-'`,
    );
  const row = { id: randomUUID(), name };
  // The unique index on the name decides a race (no check-then-insert); project and owner land together or not.
  await conflictOnDuplicate(
    () =>
      deps.db.transaction(async (tx) => {
        await tx.insert(project).values(row);
        if (ownerUserId)
          await tx.insert(projectMember).values({ projectId: row.id, userId: ownerUserId, role: 'owner' });
      }),
    () => new ConflictError(`A project named "${name}" already exists`, { reason: 'project_name_taken' }),
  );
  return row;
}

export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  name: string;
}

/** Stores only the hash; the full key is returned once, here. `key` may be injected by an operator. */
export async function createApiKey(
  deps: DbDeps,
  scope: ProjectScope,
  name: string,
  key: string = generateApiKey(),
): Promise<CreatedKey> {
  if (!isWellFormedApiKey(key))
    throw new ValidationError('API keys are rt_ followed by 20–120 of [A-Za-z0-9_]');
  const row = {
    id: randomUUID(),
    projectId: scope.projectId,
    // A NUL in a portal form field would make the insert fail (PostgreSQL text): store U+FFFD instead.
    name: storableText(name).value,
    prefix: apiKeyPrefix(key),
    hash: hashApiKey(key),
  };
  // Only an injected key can collide (a generated one has ~190 random bits): it already exists somewhere.
  await conflictOnDuplicate(
    () => deps.db.insert(apiKey).values(row),
    () => new ConflictError('This API key already exists', { reason: 'api_key_exists' }),
  );
  return { id: row.id, key, prefix: row.prefix, name };
}

/** True when this exact key is already stored (for the idempotent headless bootstrap). */
export async function apiKeyExists(deps: DbDeps, key: string): Promise<{ projectId: string } | null> {
  const [row] = await deps.db
    .select({ projectId: apiKey.projectId })
    .from(apiKey)
    .where(eq(apiKey.hash, hashApiKey(key)));
  return row ?? null;
}

export interface AuthenticatedKey extends ProjectScope {
  keyId: string;
}

const HOW_TO_GET_A_KEY =
  'create one in the portal under API keys (or `npm run admin -- create-key --project <name>`) and pass it as `Authorization: Bearer rt_…` / ROBOTRACE_API_KEY';
const LAST_USED_RESOLUTION_MS = 60_000;

type KeyRow = Awaited<ReturnType<ReturnType<typeof prepared>['keyByHash']['execute']>>[number];

/**
 * Verified keys cached in memory, per database handle, so a create does not pay a key lookup round trip.
 * - Embedded PGlite (`ttlMs` Infinity): this process owns the database alone (the data-dir lock guarantees it),
 *   every revocation goes through `revokeApiKey` below, which empties the cache: exact.
 * - A shared PostgreSQL (`ttlMs` = ROBOTRACE_API_KEY_CACHE_MS): a revocation through this instance applies at
 *   once (the same emptying); one made through another instance applies here within `ttlMs`, when the entry
 *   expires and the next request looks the key up again. A TTL rather than batching lookups into the write's
 *   round trip, because reads (list, detail) authenticate too and a lookup per batch still costs a round trip.
 * Unknown and revoked keys are never cached (a new key works at once, a wrong one is looked up every time).
 * Concurrent lookups of one key share one query, so an expiry under load costs one query, not one per request.
 */
interface KeyCache {
  ttlMs: number;
  /** `at`: when the row was read, by the deps' clock (a test moves it; a clock stepping back expires it). */
  rows: Map<string, { row: KeyRow; at: number }>;
  lookups: Map<string, Promise<KeyRow | undefined>>;
  /** Bumped by every revocation: a lookup that started before it must not put its row back. */
  generation: number;
}
const keyCaches = new Map<Database, KeyCache>();
const KEY_CACHE_MAX = 10_000;

/** Turns the cache on for this database handle; `ttlMs` bounds how long another instance's revocation takes. */
export function cacheApiKeysFor(deps: DbDeps, ttlMs = Number.POSITIVE_INFINITY): void {
  if (ttlMs <= 0) keyCaches.delete(deps.db);
  else keyCaches.set(deps.db, { ttlMs, rows: new Map(), lookups: new Map(), generation: 0 });
}

async function findKey(deps: DbClockDeps, hash: string): Promise<KeyRow | undefined> {
  const { db } = deps;
  const cache = keyCaches.get(db);
  if (!cache) return (await prepared(db).keyByHash.execute({ hash }))[0];
  const hit = cache.rows.get(hash);
  const age = hit ? deps.clock.now().getTime() - hit.at : -1;
  if (hit && age >= 0 && age < cache.ttlMs) return hit.row;
  let lookup = cache.lookups.get(hash);
  if (!lookup) {
    const generation = cache.generation;
    const at = deps.clock.now().getTime();
    lookup = prepared(db)
      .keyByHash.execute({ hash })
      .then(([row]) => {
        if (row && cache.generation === generation) {
          if (cache.rows.size >= KEY_CACHE_MAX) cache.rows.clear();
          cache.rows.set(hash, { row, at });
        }
        return row;
      })
      .finally(() => {
        if (cache.lookups.get(hash) === lookup) cache.lookups.delete(hash);
      });
    cache.lookups.set(hash, lookup);
  }
  return lookup;
}

/**
 * Resolves a Bearer key to its project by the SHA-256 of the key (the unique index on the digest): the caller
 * cannot choose the digest's bytes, so the lookup compares no attacker-steered secret material. Revocation
 * applies to the very next request on this instance, and on others within the cache's TTL (see above).
 */
export async function authenticateApiKey(
  deps: DbClockDeps,
  raw: string | undefined,
): Promise<AuthenticatedKey> {
  const { db } = deps;
  if (!raw) throw new AuthError(`Missing API key: ${HOW_TO_GET_A_KEY}`);
  if (!isWellFormedApiKey(raw)) throw new AuthError(`Malformed API key: ${HOW_TO_GET_A_KEY}`);
  const row = await findKey(deps, hashApiKey(raw));
  if (!row)
    throw new AuthError(
      hasBadChecksum(raw)
        ? `Invalid API key: its checksum does not match, so it was mistyped (copy it again): ${HOW_TO_GET_A_KEY}`
        : `Invalid or revoked API key: ${HOW_TO_GET_A_KEY}`,
    );
  // last_used_at at one-minute resolution: one write per key per minute, not one per request.
  const now = deps.clock.now();
  const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  if (!row.lastUsedAt || row.lastUsedAt < stale) {
    row.lastUsedAt = now; // first, so concurrent requests of a cached key do not all write it
    await db
      .update(apiKey)
      .set({ lastUsedAt: now })
      .where(and(eq(apiKey.id, row.id), or(isNull(apiKey.lastUsedAt), lt(apiKey.lastUsedAt, stale))));
  }
  return { projectId: row.projectId, keyId: row.id };
}

export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export async function listApiKeys(deps: DbDeps, scope: ProjectScope): Promise<ApiKeySummary[]> {
  return deps.db
    .select({
      id: apiKey.id,
      name: apiKey.name,
      prefix: apiKey.prefix,
      createdAt: apiKey.createdAt,
      lastUsedAt: apiKey.lastUsedAt,
      revokedAt: apiKey.revokedAt,
    })
    .from(apiKey)
    .where(eq(apiKey.projectId, scope.projectId))
    .orderBy(desc(apiKey.createdAt));
}

export async function revokeApiKey(deps: DbClockDeps, scope: ProjectScope, id: string): Promise<void> {
  if (!isUuid(id)) throw new NotFoundError('API key not found');
  const rows = await deps.db
    .update(apiKey)
    .set({ revokedAt: deps.clock.now() })
    .where(and(eq(apiKey.id, id), eq(apiKey.projectId, scope.projectId), isNull(apiKey.revokedAt)))
    .returning({ id: apiKey.id });
  for (const cache of keyCaches.values()) {
    cache.generation++;
    cache.rows.clear();
    cache.lookups.clear();
  }
  if (rows.length === 0) throw new NotFoundError('API key not found');
}

/** The projects a portal user belongs to, oldest first (the first is their default). */
export async function projectsOfUser(deps: DbDeps, userId: string): Promise<ProjectRow[]> {
  return deps.db
    .select({ id: project.id, name: project.name })
    .from(projectMember)
    .innerJoin(project, eq(project.id, projectMember.projectId))
    .where(eq(projectMember.userId, userId))
    .orderBy(project.createdAt);
}
