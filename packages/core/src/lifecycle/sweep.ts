import { episode, projectRetention } from '@robotrace/db';
import { asc, eq, isNotNull, or, sql } from 'drizzle-orm';
import type { CoreDeps } from '../deps.js';
import { NotFoundError } from '../errors.js';
import { recordEpisodeDeletion } from './delete.js';
import { expiredEpisodes } from './retention.js';
import { completeStorageDeletions } from './storage-deletions.js';

/** One sweep at a time across every instance sharing the database (transaction-scoped advisory lock). */
export const SWEEP_LOCK_ID = 727_274_020;

export interface SweepOutcome {
  /** false: another instance holds the sweep lock; nothing was done. */
  ran: boolean;
  deleted: number;
  bytesFreed: number;
  /** Files the store refused (kept and retried by later sweeps). */
  errors: number;
  /** The batch was full: more expired episodes may be waiting. */
  more: boolean;
}

interface ProjectTally {
  deleted: number;
  bytes: number;
  keys: string[];
}

const projectOfKey = (key: string): string => key.split('/')[0] ?? '';

/**
 * Deletes up to `batchSize` expired episodes over every project with a retention, then removes their files
 * and retries files earlier deletes could not remove. The episodes go in one transaction under the sweep
 * lock (a concurrent sweep on another instance finds it taken and skips); each is deleted the way the API
 * deletes one (files recorded first), with its eval-run links removed (scenarios are never expired).
 */
export async function runSweep(
  deps: CoreDeps,
  input: {
    batchSize: number;
    /** The first sweep after a start: retry every recorded file now, claimed or backing off (see completeStorageDeletions). */
    afterStart?: boolean;
  },
): Promise<SweepOutcome> {
  const startedAt = deps.clock.now();
  const tallies = new Map<string, ProjectTally>();
  const ran = await deps.db.transaction(async (tx) => {
    const lock = await tx.execute(sql`select pg_try_advisory_xact_lock(${SWEEP_LOCK_ID}) as locked`);
    const rows = (lock as unknown as { rows: { locked: boolean }[] }).rows;
    if (rows[0]?.locked !== true) return false;
    const policies = await tx
      .select()
      .from(projectRetention)
      .where(or(isNotNull(projectRetention.keepDays), isNotNull(projectRetention.keepFailedDays)))
      .orderBy(asc(projectRetention.projectId));
    let room = input.batchSize;
    for (const policy of policies) {
      const tally: ProjectTally = { deleted: 0, bytes: 0, keys: [] };
      tallies.set(policy.projectId, tally);
      const where = expiredEpisodes(policy.projectId, policy, startedAt);
      if (!where || room <= 0) continue;
      const expired = await tx
        .select({ id: episode.id })
        .from(episode)
        .where(where)
        .orderBy(asc(episode.createdAt), asc(episode.id))
        .limit(room);
      for (const { id } of expired) {
        try {
          const done = await recordEpisodeDeletion({ ...deps, db: tx }, policy, id, true);
          tally.deleted += 1;
          tally.bytes += done.body.bytes_freed;
          tally.keys.push(...done.keys);
        } catch (err) {
          // Deleted through the API meanwhile: nothing left to do.
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
      room -= expired.length;
    }
    return true;
  });
  if (!ran) return { ran: false, deleted: 0, bytesFreed: 0, errors: 0, more: false };

  const keys = [...tallies.values()].flatMap((t) => t.keys);
  const fresh = await completeStorageDeletions(deps, { keys, limit: Math.max(keys.length, 1) });
  const retried = await completeStorageDeletions(deps, {
    limit: input.batchSize,
    ignoreClaims: input.afterStart === true,
  });
  const failedKeys = [...fresh.failedKeys, ...retried.failedKeys];
  const errorsOf = (projectId: string) => failedKeys.filter((k) => projectOfKey(k) === projectId).length;
  const firstError = [...fresh.errors, ...retried.errors][0];
  const finishedAt = deps.clock.now();
  for (const [projectId, tally] of tallies) {
    const errors = errorsOf(projectId);
    const message =
      errors > 0
        ? `${errors} file(s) could not be removed from storage and will be retried: ${firstError ?? ''}`.slice(
            0,
            1000,
          )
        : null;
    await deps.db
      .update(projectRetention)
      .set({
        lastSweepStartedAt: startedAt,
        lastSweepFinishedAt: finishedAt,
        lastSweepDeleted: tally.deleted,
        lastSweepBytesFreed: tally.bytes,
        lastSweepErrors: errors,
        lastSweepMessage: message,
      })
      .where(eq(projectRetention.projectId, projectId));
  }
  const deleted = [...tallies.values()].reduce((sum, t) => sum + t.deleted, 0);
  return {
    ran: true,
    deleted,
    bytesFreed: [...tallies.values()].reduce((sum, t) => sum + t.bytes, 0),
    errors: failedKeys.length,
    // Full either way: expired episodes, or recorded files removed (after a crash, more may be left than one batch).
    more: deleted >= input.batchSize || retried.deleted >= input.batchSize,
  };
}
