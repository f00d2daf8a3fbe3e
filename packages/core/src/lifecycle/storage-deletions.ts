import { artifact, storageDeletion } from '@robotrace/db';
import { and, count, eq, inArray, isNotNull, lte, or, sql } from 'drizzle-orm';
import type { CoreDeps, DbDeps, ProjectScope } from '../deps.js';

/** A claimed file is not tried by another caller for this long (a crash mid-delete leaves it to the next sweep). */
const CLAIM_LEASE_MS = 60_000;
/** A refused delete is retried after 10 s, doubling up to an hour. */
const RETRY_BASE_MS = 10_000;
const RETRY_MAX_MS = 3_600_000;

export interface StoredFile {
  storageKey: string;
  projectId: string;
  episodeId: string;
  kind: string;
  sizeBytes: number | null;
}

/**
 * Records files to remove, in the transaction that deletes their episode: the record and the row's removal
 * commit together, so no crash leaves a file that nothing points at.
 */
export async function recordStorageDeletions(deps: DbDeps, files: StoredFile[], now: Date): Promise<void> {
  if (files.length === 0) return;
  await deps.db
    .insert(storageDeletion)
    .values(files.map((f) => ({ ...f, createdAt: now, nextAttemptAt: now })))
    .onConflictDoNothing();
}

export interface StorageDeletionOutcome {
  /** Files the store confirmed removed. */
  deleted: number;
  /** Files the store refused (kept, retried later). */
  failed: number;
  /** Keys of the refused files. */
  failedKeys: string[];
  /** The store's refusals, one line each (no credentials: only the error's message). */
  errors: string[];
}

const failureText = (err: unknown): string =>
  (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 500);

/**
 * Removes recorded files from the store: claims due rows (FOR UPDATE SKIP LOCKED, so instances never take the
 * same file at once), deletes each, then drops its row. A refusal stays recorded with its error and a backoff.
 * S3 takes uploads without asking the app, so a signed URL handed out before the delete could still land a
 * file: there the row is kept for one more delete once every such URL has expired.
 */
export async function completeStorageDeletions(
  deps: CoreDeps,
  opts: {
    keys?: readonly string[];
    limit: number;
    /**
     * Also take files claimed by a caller that may have died (a kill -9 between claim and delete) and files
     * backing off: the sweeper's first run after a start. A second delete of a file is harmless. The S3
     * late-upload rechecks still wait for their time.
     */
    ignoreClaims?: boolean;
  },
): Promise<StorageDeletionOutcome> {
  const now = deps.clock.now();
  const due = and(
    opts.ignoreClaims
      ? or(lte(storageDeletion.nextAttemptAt, now), eq(storageDeletion.recheck, false))
      : lte(storageDeletion.nextAttemptAt, now),
    opts.keys ? inArray(storageDeletion.storageKey, [...opts.keys]) : undefined,
  );
  if (opts.keys?.length === 0) return { deleted: 0, failed: 0, failedKeys: [], errors: [] };
  const lease = new Date(now.getTime() + CLAIM_LEASE_MS);
  const claimed = await deps.db
    .update(storageDeletion)
    .set({ nextAttemptAt: lease, attempts: sql`${storageDeletion.attempts} + 1` })
    .where(
      inArray(
        storageDeletion.storageKey,
        deps.db
          .select({ key: storageDeletion.storageKey })
          .from(storageDeletion)
          .where(due)
          .orderBy(storageDeletion.nextAttemptAt)
          .limit(opts.limit)
          .for('update', { skipLocked: true }),
      ),
    )
    .returning();
  const outcome: StorageDeletionOutcome = { deleted: 0, failed: 0, failedKeys: [], errors: [] };
  const reborn = await slotsAgain(deps, claimed);
  for (const row of claimed) {
    const key = eq(storageDeletion.storageKey, row.storageKey);
    try {
      if (reborn.has(`${row.episodeId} ${row.kind}`)) {
        await deps.derivedCopies?.forgetFile(row.storageKey).catch(() => undefined);
        await deps.db.delete(storageDeletion).where(key);
        continue;
      }
      // An upload of the file still in progress goes too: its parts would otherwise stay stored (and billed) until
      // the bucket's lifecycle rule or the local sweep of abandoned uploads.
      await deps.store.multipart?.abortAll(row.storageKey);
      await deps.store.delete(row.storageKey);
      // Derived data (rebuilt from the file when needed, cleared at start): a failure here is not the store's.
      await deps.derivedCopies?.forgetFile(row.storageKey).catch(() => undefined);
      outcome.deleted += 1;
      const lateUploadsUntil = row.createdAt.getTime() + deps.limits.uploadUrlTtlS * 1000;
      if (deps.store.kind === 's3' && !row.recheck && lateUploadsUntil > now.getTime())
        await deps.db
          .update(storageDeletion)
          .set({ recheck: true, lastError: null, nextAttemptAt: new Date(lateUploadsUntil) })
          .where(key);
      else await deps.db.delete(storageDeletion).where(key);
    } catch (err) {
      // `attempts` already counts this try: 10 s after the first refusal, 20 s after the second, …
      const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(row.attempts - 1, 20));
      const message = failureText(err);
      outcome.failed += 1;
      outcome.failedKeys.push(row.storageKey);
      outcome.errors.push(`${row.storageKey}: ${message}`);
      await deps.db
        .update(storageDeletion)
        .set({ lastError: message, nextAttemptAt: new Date(now.getTime() + backoff) })
        .where(key);
    }
  }
  return outcome;
}

/**
 * The claimed files whose slot exists again (`<episode id> <kind>`), in one query. A keyed create retried after
 * its episode was deleted makes the episode again, under the same id (the key's, ids.ts) and so at the same
 * storage key: the file there is the new episode's.
 */
async function slotsAgain(
  deps: DbDeps,
  files: readonly { episodeId: string; kind: string }[],
): Promise<Set<string>> {
  if (files.length === 0) return new Set();
  const slots = await deps.db
    .select({ episodeId: artifact.episodeId, kind: artifact.kind })
    .from(artifact)
    .where(inArray(artifact.episodeId, [...new Set(files.map((f) => f.episodeId))]));
  return new Set(slots.map((s) => `${s.episodeId} ${s.kind}`));
}

export interface PendingStorage {
  /** Files of deleted episodes still in the store (the store has not confirmed their removal). */
  files: number;
  /** Their episodes. */
  episodes: number;
  bytes: number;
  /** Files the store refused at least once. */
  failing: number;
  lastError: string | null;
}

/** What the project's deletions still owe the store (the portal says so while the store refuses). */
export async function pendingStorageDeletions(deps: DbDeps, scope: ProjectScope): Promise<PendingStorage> {
  // Rows kept only for the S3 late-upload recheck are done as far as the user can tell.
  const open = and(eq(storageDeletion.projectId, scope.projectId), eq(storageDeletion.recheck, false));
  const [totals] = await deps.db
    .select({
      files: count(),
      episodes: sql<number>`count(distinct ${storageDeletion.episodeId})::int`,
      bytes: sql<number>`coalesce(sum(${storageDeletion.sizeBytes}), 0)::bigint`,
    })
    .from(storageDeletion)
    .where(open);
  const failing = await deps.db
    .select({ lastError: storageDeletion.lastError })
    .from(storageDeletion)
    .where(and(open, isNotNull(storageDeletion.lastError)))
    .orderBy(sql`${storageDeletion.nextAttemptAt} desc`);
  return {
    files: Number(totals?.files ?? 0),
    episodes: Number(totals?.episodes ?? 0),
    bytes: Number(totals?.bytes ?? 0),
    failing: failing.length,
    lastError: failing[0]?.lastError ?? null,
  };
}
