import type { ArtifactKind } from '@robotrace/contracts';
import type { StoredObject } from '@robotrace/storage';
import type { CoreDeps } from './deps.js';
import { PayloadTooLargeError } from './errors.js';

export interface OversizeArtifact {
  kind: ArtifactKind;
  size: number;
  limit: number;
}

/**
 * What arrived for a slot whose upload bypassed the app (S3). A presigned PUT cannot cap its body, so the size
 * limit is applied here: an object over the kind's limit counts as not uploaded, and with `remove` it is deleted
 * so it neither costs storage nor becomes readable later.
 */
export async function statWithinLimit(
  deps: CoreDeps,
  slot: { kind: string; storageKey: string },
  remove: boolean,
): Promise<{ obj: StoredObject | null; oversize: OversizeArtifact | null }> {
  const obj = await deps.store.stat(slot.storageKey);
  const kind = slot.kind as ArtifactKind;
  const limit = deps.limits.maxUploadBytes?.(kind);
  if (!obj || limit === undefined || obj.size <= limit) return { obj, oversize: null };
  if (remove) await deps.store.delete(slot.storageKey);
  return { obj: null, oversize: { kind, size: obj.size, limit } };
}

/** The refusal of a "ready" finalize whose upload was over the limit; the episode stays recording. */
export function oversizeError(items: OversizeArtifact[]): PayloadTooLargeError {
  const what = items.map((o) => `${o.kind} is ${o.size} bytes (limit ${o.limit})`).join('; ');
  return new PayloadTooLargeError(
    `Uploaded artifact too large: ${what}. It was deleted and the episode is still recording: upload a smaller file (POST /api/ingest/episode/{id}/upload-url for a fresh URL) and finalize again, or finalize as "failed"`,
    { artifacts: items },
  );
}
