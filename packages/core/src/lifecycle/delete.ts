import type { DeleteEpisodeResponse, EpisodeReferences } from '@robotrace/contracts';
import { artifact, episode } from '@robotrace/db';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { CoreDeps, DbDeps, ProjectScope } from '../deps.js';
import { AppError, NotFoundError } from '../errors.js';
import { idempotent } from '../idempotency.js';
import { isUuid } from '../ids.js';
import { episodeReferences, hasReferences, unlinkReferences } from './references.js';
import { completeStorageDeletions, recordStorageDeletions, type StoredFile } from './storage-deletions.js';

export interface DeleteEpisodeInput {
  projectId: string;
  episodeId: string;
  /** Remove the eval results and scenarios that reference the episode instead of refusing (409). */
  unlinkReferences?: boolean | undefined;
  /** Honoured like the ingest routes': a replay answers what the first delete answered. */
  idempotencyKey?: string | undefined;
}

/** The 409 of a referenced episode; `details` names every reference. */
export class EpisodeReferencedError extends AppError {
  constructor(references: EpisodeReferences) {
    const names = [
      ...references.eval_runs.map((r) => `eval run ${r.name ?? r.id}`),
      ...references.scenarios.map((s) => `verification scenario ${s.name ?? s.id}`),
    ];
    super(
      409,
      'episode_referenced',
      `Episode is referenced by ${names.join(', ')}; delete with unlink_references=true to remove those links too`,
      references,
    );
  }
}

interface RecordedDeletion {
  body: DeleteEpisodeResponse;
  keys: string[];
}

/**
 * The database half of a delete, in one transaction: lock the row (an upload being recorded finishes first
 * and its file is counted; a later one finds no slot), check or remove references, record every file for
 * deletion, delete the row (artifacts, track index, insights cascade). From this commit on, no read sees
 * the episode.
 */
export async function recordEpisodeDeletion(
  deps: Pick<CoreDeps, 'db' | 'clock'>,
  scope: ProjectScope,
  episodeId: string,
  unlink: boolean,
): Promise<RecordedDeletion> {
  if (!isUuid(episodeId)) throw new NotFoundError('Episode not found');
  const id = episodeId.toLowerCase();
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ id: episode.id })
      .from(episode)
      .where(and(eq(episode.id, id), eq(episode.projectId, scope.projectId)))
      .for('update');
    if (!row) throw new NotFoundError('Episode not found');
    const refs = await episodeReferences({ db: tx }, scope, [id]);
    let removed = { eval_results: 0, scenarios: 0 };
    if (hasReferences(refs)) {
      if (!unlink) throw new EpisodeReferencedError(refs);
      removed = await unlinkReferences({ db: tx }, scope, id);
    }
    const slots = await tx.select().from(artifact).where(eq(artifact.episodeId, id));
    const files: StoredFile[] = slots.map((a) => ({
      storageKey: a.storageKey,
      projectId: scope.projectId,
      episodeId: id,
      kind: a.kind,
      sizeBytes: a.sizeBytes,
    }));
    await recordStorageDeletions({ db: tx }, files, deps.clock.now());
    await tx.delete(episode).where(eq(episode.id, id));
    const stored = slots.filter((a) => a.uploadedAt !== null);
    return {
      keys: files.map((f) => f.storageKey),
      body: {
        episode_id: id,
        deleted: true,
        artifacts_deleted: stored.length,
        bytes_freed: stored.reduce((sum, a) => sum + (a.sizeBytes ?? 0), 0),
        references_removed: removed,
      },
    };
  });
}

/**
 * Deletes an episode: the row first (with its files recorded, one transaction), then the files. A store that
 * refuses leaves them recorded for the sweeper, and the answer says `pending_storage: true`.
 */
export async function deleteEpisode(
  deps: CoreDeps,
  input: DeleteEpisodeInput,
): Promise<DeleteEpisodeResponse> {
  return (await deleteEpisodeKeyed(deps, input)).body;
}

/** deleteEpisode, also saying whether the answer replays an earlier delete's Idempotency-Key (the API's header). */
export async function deleteEpisodeKeyed(
  deps: CoreDeps,
  input: DeleteEpisodeInput,
): Promise<{ body: DeleteEpisodeResponse; replayed: boolean }> {
  const scope = { projectId: input.projectId };
  const unlink = input.unlinkReferences === true;
  let recorded: RecordedDeletion | undefined;
  if (input.idempotencyKey) {
    const stored = await idempotent(
      deps,
      scope,
      {
        key: input.idempotencyKey,
        operation: `delete:${input.episodeId.toLowerCase()}`,
        rawBody: String(unlink),
      },
      async (d) => {
        recorded = await recordEpisodeDeletion(d, scope, input.episodeId, unlink);
        return { status: 200, body: recorded.body };
      },
    );
    // A replay: the first delete already removed (or recorded) the files.
    if (stored.replayed) return { body: stored.body as DeleteEpisodeResponse, replayed: true };
  } else recorded = await recordEpisodeDeletion(deps, scope, input.episodeId, unlink);
  if (!recorded) throw new Error('delete recorded nothing');
  const outcome = await completeStorageDeletions(deps, { keys: recorded.keys, limit: recorded.keys.length });
  const body = outcome.failed > 0 ? { ...recorded.body, pending_storage: true } : recorded.body;
  return { body, replayed: false };
}

export interface DeletionSummary {
  /** How many of the asked ids name an episode of the project. */
  episodes: number;
  /** Their stored files and bytes. */
  artifacts: number;
  bytes: number;
  references: EpisodeReferences;
}

/** What deleting these episodes removes (the portal's confirmation names it); unknown ids count for nothing. */
export async function describeDeletion(
  deps: DbDeps,
  input: { projectId: string; episodeIds: readonly string[] },
): Promise<DeletionSummary> {
  const scope = { projectId: input.projectId };
  const ids = [...new Set(input.episodeIds.filter(isUuid).map((id) => id.toLowerCase()))];
  if (ids.length === 0)
    return { episodes: 0, artifacts: 0, bytes: 0, references: { eval_runs: [], scenarios: [] } };
  const found = await deps.db
    .select({ id: episode.id })
    .from(episode)
    .where(and(eq(episode.projectId, scope.projectId), inArray(episode.id, ids)));
  const known = found.map((r) => r.id);
  if (known.length === 0)
    return { episodes: 0, artifacts: 0, bytes: 0, references: { eval_runs: [], scenarios: [] } };
  const [files] = await deps.db
    .select({
      artifacts: sql<number>`count(*)::int`,
      bytes: sql<number>`coalesce(sum(${artifact.sizeBytes}), 0)::bigint`,
    })
    .from(artifact)
    .where(and(inArray(artifact.episodeId, known), sql`${artifact.uploadedAt} is not null`));
  return {
    episodes: known.length,
    artifacts: Number(files?.artifacts ?? 0),
    bytes: Number(files?.bytes ?? 0),
    references: await episodeReferences(deps, scope, known),
  };
}
