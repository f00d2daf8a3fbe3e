import { hash } from 'node:crypto';
import { idempotencyKey } from '@robotrace/db';
import { and, eq, lt } from 'drizzle-orm';
import type { CoreDeps, ProjectScope } from './deps.js';
import { ConflictError, ValidationError } from './errors.js';

const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;
/** Keys are kept at least this long (the issue asks for ≥ 24 h; we keep 48 h). */
export const IDEMPOTENCY_RETENTION_MS = 48 * 3600 * 1000;

export interface IdempotentRequest {
  key: string;
  /** The operation and its target, e.g. `create` or `finalize:<episode id>`: a key is scoped to one of them. */
  operation: string;
  rawBody: string;
}

export interface StoredResponse {
  status: number;
  body: unknown;
  replayed: boolean;
}

export function checkIdempotencyKey(key: string): void {
  if (!KEY_FORMAT.test(key))
    throw new ValidationError(
      'Invalid Idempotency-Key header: use 1–255 printable ASCII characters (a UUID is ideal)',
    );
}

/**
 * Runs `execute` at most once per (project, operation, key). The key row and the work share one transaction:
 * a concurrent request with the same key waits on the key's unique index and then replays the stored response;
 * a crash rolls both back, so a retry simply runs again. The same key with another body is a 409.
 */
/**
 * What a replay is compared by: SHA-256 of the raw body, hex. One definition for the grouped creates and every
 * other keyed route (a one-shot hash: half the time of createHash().update().digest() for a create's body).
 */
export const requestHashOf = (rawBody: string): string => hash('sha256', rawBody, 'hex');

export async function idempotent(
  deps: CoreDeps,
  scope: ProjectScope,
  req: IdempotentRequest,
  execute: (deps: CoreDeps) => Promise<{ status: number; body: unknown }>,
): Promise<StoredResponse> {
  checkIdempotencyKey(req.key);
  const requestHash = requestHashOf(req.rawBody);
  const where = and(
    eq(idempotencyKey.projectId, scope.projectId),
    eq(idempotencyKey.scope, req.operation),
    eq(idempotencyKey.key, req.key),
  );
  return deps.db.transaction(async (tx) => {
    const claimed = await tx
      .insert(idempotencyKey)
      .values({
        projectId: scope.projectId,
        scope: req.operation,
        key: req.key,
        requestHash,
        status: 0,
        body: {},
      })
      .onConflictDoNothing()
      .returning({ key: idempotencyKey.key });
    if (claimed.length === 0) {
      const [row] = await tx.select().from(idempotencyKey).where(where);
      if (!row || row.requestHash !== requestHash)
        throw new ConflictError('This Idempotency-Key was already used with a different request body', {
          reason: 'idempotency_key_reused',
        });
      return { status: row.status, body: row.body, replayed: true };
    }
    const result = await execute({ ...deps, db: tx });
    await tx.update(idempotencyKey).set({ status: result.status, body: result.body }).where(where);
    return { ...result, replayed: false };
  });
}

/** Drops keys past retention; run periodically by the server. */
export async function pruneIdempotencyKeys(deps: CoreDeps): Promise<void> {
  const cutoff = new Date(deps.clock.now().getTime() - IDEMPOTENCY_RETENTION_MS);
  await deps.db.delete(idempotencyKey).where(lt(idempotencyKey.createdAt, cutoff));
}
