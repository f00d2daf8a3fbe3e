import { hash } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot name a row, so callers answer 404 without a query. */
export const isUuid = (s: string): boolean => UUID.test(s);

/**
 * The id of the episode a create with this Idempotency-Key makes: SHA-256 of the project and the key, as a
 * version-8 UUID (RFC 9562: the version nibble tells it from the random v4 ids of creates without a key). The
 * episode's primary key is then what makes the key single-use: a retry of the create meets its own episode,
 * and the key costs the create no row of its own.
 */
export function episodeIdForKey(projectId: string, key: string): string {
  const h = hash('sha256', `create\n${projectId}\n${key}`, 'buffer');
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x80;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
