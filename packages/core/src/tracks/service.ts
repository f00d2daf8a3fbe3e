import type { ArtifactKind, TrackList } from '@robotrace/contracts';
import { artifact, episode, trackIndex } from '@robotrace/db';
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { CoreDeps, ProjectScope } from '../deps.js';
import { ValidationError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import type { ColumnCache } from './column-cache.js';
import {
  type EpisodeTiming,
  type IndexRow,
  loadEpisodeIndex,
  TRACK_KINDS,
  trackListOf,
} from './episode-index.js';
import { artifactKeyOf, EXT, indexFile, sniff } from './file-index.js';
import type { IndexContext } from './npz-index.js';
import type { WindowCache } from './window-cache.js';

export interface TrackPorts {
  /** Ranged reads of a stored artifact (the local file today; an object store's ranged GET behind the same shape). */
  open(storageKey: string): Promise<ByteSource>;
  cache: ColumnCache;
  /** Bytes of array data one file's indexing reads at most; past it the file is indexed partially. */
  maxIndexBytes: number;
  /** Serialized windows kept for identical repeat requests (absent: every window is built afresh). */
  windows?: WindowCache | undefined;
}

/** CoreDeps (db, clock) plus the replay ports; every function here is scoped to the caller's project. */
export type TrackDeps = Pick<CoreDeps, 'db' | 'clock'> & { tracks: TrackPorts };

export { artifactKeyOf, indexTrackFile } from './file-index.js';
export { readTrackWindow, readTrackWindowJson } from './window.js';
export { TRACK_KINDS };
/**
 * Tracks kept per file: every list and window request reads the file's whole track index, and the page draws a
 * lane per track, so a file of 65,536 one-value members would otherwise stall the server and the browser.
 */
export const MAX_TRACKS_PER_FILE = 256;
/** PostgreSQL text and jsonb cannot hold NUL; a member or column name from a file may. Stored as U+FFFD. */
function storableStrings<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '\ufffd') : v)),
  ) as T;
}

/**
 * Indexes an uploaded sensors/actions file once (call when its upload completes): finds its tracks and keeps
 * them in track_index, replacing an earlier index of the same slot. Reads by ranges; never the whole file.
 * Two statements in all — the episode with its index rows, then one upsert — and the list it answers is built
 * from those rows rather than read back: each PGlite statement costs about a millisecond, and the eight this
 * took before (episode twice, previous row, pending uploads, rows again…) were most of indexing a small file.
 */
export async function indexArtifactTracks(
  deps: TrackDeps,
  scope: ProjectScope,
  episodeId: string,
  kind: ArtifactKind,
  source: ByteSource,
): Promise<TrackList> {
  if (!TRACK_KINDS.includes(kind)) throw new ValidationError(`artifact kind '${kind}' has no tracks`);
  const loaded = await loadEpisodeIndex(deps, scope, episodeId);
  return trackListOf(loaded.ep, await writeIndex(deps, scope, loaded, kind, source));
}

/** On conflict every column but the key comes from the row being inserted: the JSON is sent once, not twice. */
const UPSERT_SET = {
  projectId: sql.raw('excluded.project_id'),
  format: sql.raw('excluded.format'),
  sizeBytes: sql.raw('excluded.size_bytes'),
  indexedAt: sql.raw('excluded.indexed_at'),
  warnings: sql.raw('excluded.warnings'),
  tracks: sql.raw('excluded.tracks'),
};

/** Indexes one file of a loaded episode and upserts its row; returns the episode's rows as they are now. */
async function writeIndex(
  deps: TrackDeps,
  scope: ProjectScope,
  loaded: { ep: EpisodeTiming; rows: IndexRow[] },
  kind: ArtifactKind,
  source: ByteSource,
): Promise<IndexRow[]> {
  const { ep, rows } = loaded;
  const previous = rows.find((r) => r.artifactKind === kind);
  if (previous) await deps.tracks.cache.forget(artifactKeyOf(previous));
  const format = await sniff(source);
  const indexedAt = deps.clock.now();
  const key = { projectId: scope.projectId, episodeId: ep.id, artifactKind: kind, indexedAt };
  const ctx: IndexContext = {
    label: `${kind}${EXT[format]}`,
    artifactKey: artifactKeyOf(key),
    cache: deps.tracks.cache,
    maxIndexBytes: deps.tracks.maxIndexBytes,
  };
  const file = await indexFile(source, format, ctx, kind);
  if (file.tracks.length > MAX_TRACKS_PER_FILE) {
    file.warnings.push(
      `${ctx.label}: ${file.tracks.length} tracks — indexed partially (the first ${MAX_TRACKS_PER_FILE}); the rest are not shown`,
    );
    file.tracks = file.tracks.slice(0, MAX_TRACKS_PER_FILE);
  }
  const [written] = await deps.db
    .insert(trackIndex)
    .values({
      ...key,
      format,
      sizeBytes: source.size,
      warnings: storableStrings(file.warnings),
      tracks: storableStrings(file.tracks),
    })
    .onConflictDoUpdate({ target: [trackIndex.episodeId, trackIndex.artifactKind], set: UPSERT_SET })
    .returning();
  if (!written) throw new Error('track_index upsert returned no row');
  return [...rows.filter((r) => r.artifactKind !== kind), written];
}

/**
 * Indexes the episode's uploaded sensors/actions files that have no index yet (or an older one than the
 * upload): an S3 upload goes straight to the bucket, so the app first hears of it at finalize; an index that
 * failed at upload (logged) is tried again here. A file gone from the store is left alone. Returns the rows.
 */
async function indexPending(
  deps: TrackDeps,
  scope: ProjectScope,
  loaded: { ep: EpisodeTiming; rows: IndexRow[] },
): Promise<IndexRow[]> {
  let rows = loaded.rows;
  const uploads = await deps.db
    .select({ kind: artifact.kind, key: artifact.storageKey, uploadedAt: artifact.uploadedAt })
    .from(artifact)
    .innerJoin(episode, eq(episode.id, artifact.episodeId))
    .where(
      and(
        eq(artifact.episodeId, loaded.ep.id),
        eq(episode.projectId, scope.projectId),
        inArray(artifact.kind, [...TRACK_KINDS]),
        isNotNull(artifact.uploadedAt),
      ),
    );
  for (const up of uploads) {
    const row = rows.find((r) => r.artifactKind === up.kind);
    if (row && up.uploadedAt && row.indexedAt >= up.uploadedAt) continue;
    let source: ByteSource;
    try {
      source = await deps.tracks.open(up.key);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    try {
      rows = await writeIndex(deps, scope, { ep: loaded.ep, rows }, up.kind as ArtifactKind, source);
    } finally {
      await source.close();
    }
  }
  return rows;
}

/** The tracks of an episode (all its indexed files), on the episode's timeline: two statements when indexed. */
export async function listTracks(
  deps: TrackDeps,
  scope: ProjectScope,
  episodeId: string,
): Promise<TrackList> {
  const loaded = await loadEpisodeIndex(deps, scope, episodeId);
  return trackListOf(loaded.ep, await indexPending(deps, scope, loaded));
}
