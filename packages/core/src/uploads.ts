import { artifact, episode } from '@robotrace/db';
import { eq } from 'drizzle-orm';
import type { DbClockDeps, DbDeps } from './deps.js';
import { ConflictError, NotFoundError } from './errors.js';

// The local upload route's side of a slot (S3 uploads bypass the app; finalize asks the bucket instead).

/** The refusal of an upload (or a fresh upload URL) once the episode is no longer recording. */
export function uploadsClosed(status: string): ConflictError {
  return new ConflictError(`Episode is already finalized as "${status}"; its uploads are closed`, {
    reason: 'episode_finalized',
    status,
  });
}

/**
 * Checks that a storage key is a slot that was handed out (uploads to anything else are 404) and that its
 * episode still records (after finalize, 409): asked before the body is read.
 */
export async function openUploadSlot(deps: DbDeps, key: string): Promise<void> {
  const [row] = await deps.db
    .select({ status: episode.status })
    .from(artifact)
    .innerJoin(episode, eq(episode.id, artifact.episodeId))
    .where(eq(artifact.storageKey, key));
  if (!row) throw new NotFoundError('No artifact slot for this URL');
  if (row.status !== 'recording') throw uploadsClosed(row.status);
}

/**
 * Records a received upload (the local upload route). The episode row is locked first, so a finalize either
 * ran before (then this is a 409 and `place` is never called: nothing is stored) or runs after and counts
 * these bytes. `place` puts the bytes where the store serves them, inside that lock.
 */
export async function recordUpload(
  deps: DbClockDeps,
  key: string,
  upload: { size: number; contentType: string },
  place: () => Promise<void>,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ status: episode.status })
      .from(artifact)
      .innerJoin(episode, eq(episode.id, artifact.episodeId))
      .where(eq(artifact.storageKey, key))
      .for('update', { of: episode });
    if (!row) throw new NotFoundError('No artifact slot for this URL');
    if (row.status !== 'recording') throw uploadsClosed(row.status);
    await place();
    await tx
      .update(artifact)
      .set({ sizeBytes: upload.size, contentType: upload.contentType, uploadedAt: deps.clock.now() })
      .where(eq(artifact.storageKey, key));
  });
}
