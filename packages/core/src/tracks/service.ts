import type { ArtifactKind, TrackInfo, TrackList, TrackWindow, TrackWindowQuery } from '@robotrace/contracts';
import { artifact, episode, trackIndex } from '@robotrace/db';
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { CoreDeps, ProjectScope } from '../deps.js';
import { storageKey } from '../episodes.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { isUuid } from '../ids.js';
import type { ByteSource } from './byte-source.js';
import type { ColumnCache } from './column-cache.js';
import { FullResolution, MinMaxBuckets } from './downsample.js';
import type { DataRef, IndexedFile, IndexedTrack, TrackFileFormat } from './model.js';
import { type IndexContext, indexNpy, indexNpz } from './npz-index.js';
import { lowerBound, readRows, timesOf } from './sample-reader.js';
import { indexArrow, indexParquet } from './table-index.js';
import { memberChunks, memberDataOffset } from './zip.js';

export interface TrackPorts {
  /** Ranged reads of a stored artifact (the local file today; an object store's ranged GET behind the same shape). */
  open(storageKey: string): Promise<ByteSource>;
  cache: ColumnCache;
  /** Bytes of array data one file's indexing reads at most; past it the file is indexed partially. */
  maxIndexBytes: number;
}

/** CoreDeps (db, clock) plus the replay ports; every function here is scoped to the caller's project. */
export type TrackDeps = Pick<CoreDeps, 'db' | 'clock'> & { tracks: TrackPorts };

export const TRACK_KINDS: readonly ArtifactKind[] = ['sensors', 'actions'];
/**
 * Tracks kept per file: every list and window request reads the file's whole track index, and the page draws a
 * lane per track, so a file of 65,536 one-value members would otherwise stall the server and the browser.
 */
export const MAX_TRACKS_PER_FILE = 256;
const EXT: Record<TrackFileFormat, string> = {
  npz: '.npz',
  npy: '.npy',
  parquet: '.parquet',
  arrow: '.arrow',
  unknown: '',
};

type Row = typeof trackIndex.$inferSelect;
type EpisodeTiming = { fps: number | null; durationS: number | null };

async function findEpisode(
  deps: TrackDeps,
  scope: ProjectScope,
  id: string,
): Promise<EpisodeTiming & { id: string }> {
  if (!isUuid(id)) throw new NotFoundError('Episode not found');
  const [row] = await deps.db
    .select({ id: episode.id, fps: episode.fps, durationS: episode.durationS })
    .from(episode)
    .where(and(eq(episode.id, id.toLowerCase()), eq(episode.projectId, scope.projectId)));
  if (!row) throw new NotFoundError('Episode not found');
  return row;
}

async function sniff(source: ByteSource): Promise<TrackFileFormat> {
  const head = await source.read(0, 8);
  const ascii = new TextDecoder('latin1').decode(head);
  if (ascii.startsWith('PK\u0003\u0004') || ascii.startsWith('PK\u0005\u0006')) return 'npz';
  if (ascii.startsWith('\u0093NUMPY')) return 'npy';
  if (ascii.startsWith('PAR1')) return 'parquet';
  if (
    ascii.startsWith('ARROW1') ||
    (head.byteLength >= 4 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff)
  )
    return 'arrow';
  return 'unknown';
}

const artifactKeyOf = (row: Pick<Row, 'projectId' | 'episodeId' | 'artifactKind' | 'indexedAt'>) =>
  `${row.projectId}/${row.episodeId}/${row.artifactKind}@${row.indexedAt.getTime()}`;

/** PostgreSQL text and jsonb cannot hold NUL; a member or column name from a file may. Stored as U+FFFD. */
function storableStrings<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '\ufffd') : v)),
  ) as T;
}

/** Detects the format by its magic bytes and indexes the file; warnings name it `<kind>.<ext>`. */
export async function indexTrackFile(
  source: ByteSource,
  kind: ArtifactKind,
  ctx: Omit<IndexContext, 'label'>,
): Promise<IndexedFile> {
  const format = await sniff(source);
  return indexFile(source, format, { ...ctx, label: `${kind}${EXT[format]}` }, kind);
}

async function indexFile(
  source: ByteSource,
  format: TrackFileFormat,
  ctx: IndexContext,
  kind: ArtifactKind,
): Promise<IndexedFile> {
  if (format === 'npz') return indexNpz(source, ctx);
  if (format === 'npy') return indexNpy(source, ctx, kind);
  if (format === 'parquet') return indexParquet(source, ctx, kind);
  if (format === 'arrow') return indexArrow(source, ctx, kind);
  return {
    format,
    tracks: [],
    warnings: [`${kind}: not a track file we can read (NPZ, .npy, Parquet, Feather/Arrow) — no tracks`],
  };
}

/**
 * Indexes an uploaded sensors/actions file once (call when its upload completes): finds its tracks and keeps
 * them in track_index, replacing an earlier index of the same slot. Reads by ranges; never the whole file.
 */
export async function indexArtifactTracks(
  deps: TrackDeps,
  scope: ProjectScope,
  episodeId: string,
  kind: ArtifactKind,
  source: ByteSource,
): Promise<TrackList> {
  await writeIndex(deps, scope, episodeId, kind, source);
  return listTracks(deps, scope, episodeId);
}

async function writeIndex(
  deps: TrackDeps,
  scope: ProjectScope,
  episodeId: string,
  kind: ArtifactKind,
  source: ByteSource,
): Promise<void> {
  if (!TRACK_KINDS.includes(kind)) throw new ValidationError(`artifact kind '${kind}' has no tracks`);
  const ep = await findEpisode(deps, scope, episodeId);
  const [previous] = await deps.db
    .select()
    .from(trackIndex)
    .where(
      and(
        eq(trackIndex.episodeId, ep.id),
        eq(trackIndex.artifactKind, kind),
        eq(trackIndex.projectId, scope.projectId),
      ),
    );
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
  const values = {
    ...key,
    format,
    sizeBytes: source.size,
    warnings: storableStrings(file.warnings),
    tracks: storableStrings(file.tracks),
  };
  await deps.db
    .insert(trackIndex)
    .values(values)
    .onConflictDoUpdate({ target: [trackIndex.episodeId, trackIndex.artifactKind], set: values });
}

interface Resolved {
  info: TrackInfo;
  track: IndexedTrack;
  row: Row;
  /** Timeline ns of the track's first `_t_ns` (null for step-spaced tracks). */
  offsetNs: number;
  stepNs: number;
}

/** Spacing of a track without `_t_ns`: the episode's fps, else its duration over the samples, else 1 s. */
function stepNsOf(ep: EpisodeTiming, samples: number): number {
  if (ep.fps && ep.fps > 0) return 1e9 / ep.fps;
  if (ep.durationS && ep.durationS > 0 && samples > 1) return (ep.durationS * 1e9) / (samples - 1);
  return 1e9;
}

async function resolveAll(deps: TrackDeps, scope: ProjectScope, episodeId: string) {
  const ep = await findEpisode(deps, scope, episodeId);
  const rows = await deps.db
    .select()
    .from(trackIndex)
    .where(and(eq(trackIndex.episodeId, ep.id), eq(trackIndex.projectId, scope.projectId)));
  // sensors before actions, so a clash renames the actions track, the same way every time.
  rows.sort(
    (a, b) =>
      TRACK_KINDS.indexOf(a.artifactKind as ArtifactKind) -
      TRACK_KINDS.indexOf(b.artifactKind as ArtifactKind),
  );
  // ROS 2 times are Unix-epoch ns: the episode starts at the earliest first stamp across all its topics.
  let origin: bigint | null = null;
  for (const row of rows)
    for (const t of row.tracks as IndexedTrack[])
      if (t.time?.absolute && (origin === null || BigInt(t.time.startNs) < origin))
        origin = BigInt(t.time.startNs);
  const taken = new Set<string>();
  const resolved: Resolved[] = [];
  for (const row of rows) {
    for (const track of row.tracks as IndexedTrack[]) {
      const name = taken.has(track.name) ? `${row.artifactKind}:${track.name}` : track.name;
      taken.add(name);
      const stepNs = stepNsOf(ep, track.samples);
      let start: number | null = null;
      let end: number | null = null;
      let offsetNs = 0;
      if (track.time) {
        offsetNs = Number(
          BigInt(track.time.startNs) - (track.time.absolute && origin !== null ? origin : 0n),
        );
        start = offsetNs;
        end = offsetNs + Number(BigInt(track.time.endNs) - BigInt(track.time.startNs));
      } else if (track.samples > 0) {
        start = 0;
        end = (track.samples - 1) * stepNs;
      }
      resolved.push({
        track,
        row,
        offsetNs,
        stepNs,
        info: {
          name,
          artifact_kind: row.artifactKind as ArtifactKind,
          topic: track.topic,
          field: track.field,
          columns: track.columns,
          dtype: track.dtype,
          samples: track.samples,
          t_start_ns: start,
          t_end_ns: end,
          absolute_time: track.time?.absolute ?? false,
          time_source: track.time ? 't_ns' : 'steps',
          warnings: track.warnings,
        },
      });
    }
  }
  return { rows, resolved, origin };
}

/**
 * Indexes the episode's uploaded sensors/actions files that have no index yet (or an older one than the
 * upload): an S3 upload goes straight to the bucket, so the app first hears of it at finalize; an index that
 * failed at upload (logged) is tried again here. A file gone from the store is left alone.
 */
async function indexPending(deps: TrackDeps, scope: ProjectScope, episodeId: string): Promise<void> {
  const uploads = await deps.db
    .select({ kind: artifact.kind, key: artifact.storageKey, uploadedAt: artifact.uploadedAt })
    .from(artifact)
    .innerJoin(episode, eq(episode.id, artifact.episodeId))
    .where(
      and(
        eq(artifact.episodeId, episodeId),
        eq(episode.projectId, scope.projectId),
        inArray(artifact.kind, [...TRACK_KINDS]),
        isNotNull(artifact.uploadedAt),
      ),
    );
  if (uploads.length === 0) return;
  const indexed = await deps.db
    .select({ kind: trackIndex.artifactKind, indexedAt: trackIndex.indexedAt })
    .from(trackIndex)
    .where(and(eq(trackIndex.episodeId, episodeId), eq(trackIndex.projectId, scope.projectId)));
  for (const up of uploads) {
    const row = indexed.find((r) => r.kind === up.kind);
    if (row && up.uploadedAt && row.indexedAt >= up.uploadedAt) continue;
    let source: ByteSource;
    try {
      source = await deps.tracks.open(up.key);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    try {
      await writeIndex(deps, scope, episodeId, up.kind as ArtifactKind, source);
    } finally {
      await source.close();
    }
  }
}

/** The tracks of an episode (all its indexed files), on the episode's timeline. */
export async function listTracks(
  deps: TrackDeps,
  scope: ProjectScope,
  episodeId: string,
): Promise<TrackList> {
  const ep = await findEpisode(deps, scope, episodeId);
  await indexPending(deps, scope, ep.id);
  const { rows, resolved, origin } = await resolveAll(deps, scope, episodeId);
  return {
    tracks: resolved.map((r) => r.info),
    warnings: rows.flatMap((r) => r.warnings),
    origin_ns: origin === null ? null : origin.toString(),
  };
}

/** The artifact's bytes; a file gone from the store (deleted by hand, a lost volume) is a 404, not a 500. */
async function openArtifact(deps: TrackDeps, key: string): Promise<ByteSource> {
  try {
    return await deps.tracks.open(key);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError('Track data is no longer stored');
    throw err;
  }
}

/** A readable copy of one array: in place in the artifact, or its decoded copy in the cache (rebuilt if evicted). */
async function openData(deps: TrackDeps, row: Row, ref: DataRef): Promise<ByteSource> {
  const key = storageKey({ projectId: row.projectId }, row.episodeId, row.artifactKind as ArtifactKind);
  if (ref.in === 'artifact') return openArtifact(deps, key);
  const cacheKey = artifactKeyOf(row);
  const cached = await deps.tracks.cache.open(cacheKey, ref.member);
  if (cached) return cached;
  await deps.tracks.cache.rebuild(cacheKey, ref.member, async () => {
    const source = await openArtifact(deps, key);
    try {
      const rebuild = ref.rebuild;
      if (rebuild?.kind === 'zip-member') {
        const at = await memberDataOffset(source, rebuild.entry);
        async function* data() {
          let skip = rebuild?.kind === 'zip-member' ? rebuild.headerBytes : 0;
          for await (const chunk of memberChunks(
            source,
            (rebuild as { entry: Parameters<typeof memberChunks>[1] }).entry,
            at,
          )) {
            const part = chunk.subarray(Math.min(skip, chunk.byteLength));
            skip -= Math.min(skip, chunk.byteLength);
            if (part.byteLength) yield part;
          }
        }
        await deps.tracks.cache.write(cacheKey, ref.member, data());
      } else {
        const ctx = {
          label: row.artifactKind,
          artifactKey: cacheKey,
          cache: deps.tracks.cache,
          maxIndexBytes: deps.tracks.maxIndexBytes,
        };
        await indexFile(source, row.format as TrackFileFormat, ctx, row.artifactKind as ArtifactKind);
      }
    } finally {
      await source.close();
    }
  });
  const rebuilt = await deps.tracks.cache.open(cacheKey, ref.member);
  if (!rebuilt) throw new NotFoundError('Track data is no longer available');
  return rebuilt;
}

/**
 * One track over [from_ns, to_ns] of the episode's timeline: every sample when the window holds no more than
 * `points`, else min/max per time bucket. Reads only the rows inside the window (binary search on `_t_ns`).
 */
export async function readTrackWindow(
  deps: TrackDeps,
  scope: ProjectScope,
  episodeId: string,
  name: string,
  query: TrackWindowQuery,
): Promise<TrackWindow> {
  const { resolved } = await resolveAll(deps, scope, episodeId);
  const hit = resolved.find((r) => r.info.name === name);
  if (!hit) throw new NotFoundError('Track not found');
  const { info, track, row } = hit;
  const from = query.from_ns ?? info.t_start_ns ?? 0;
  const to = query.to_ns ?? info.t_end_ns ?? 0;
  const columns = track.columns.length;
  const empty: TrackWindow = {
    name: info.name,
    columns: track.columns,
    from_ns: from,
    to_ns: to,
    samples: 0,
    downsampled: false,
    t_ns: [],
    series: track.columns.map((column) => ({ column, min: [], max: [] })),
  };
  if (track.samples === 0 || from > to) return empty;
  const data = await openData(deps, row, track.data);
  const time = track.time ? await openData(deps, row, track.time.data) : null;
  try {
    let i0: number;
    let i1: number;
    let base = 0n;
    if (track.time && time) {
      base = BigInt(track.time.startNs);
      const rel = (ns: number) => base + BigInt(Math.ceil(ns - hit.offsetNs));
      const range = { first: base, last: BigInt(track.time.endNs) };
      i0 = await lowerBound(time, track.time.data, track.samples, rel(from), range);
      i1 = await lowerBound(
        time,
        track.time.data,
        track.samples,
        base + BigInt(Math.floor(to - hit.offsetNs)) + 1n,
        range,
      );
    } else {
      i0 = Math.max(0, Math.ceil(from / hit.stepNs - 1e-9));
      i1 = Math.min(track.samples, Math.floor(to / hit.stepNs + 1e-9) + 1);
    }
    if (i1 <= i0) return empty;
    const count = i1 - i0;
    const downsampled = count > query.points;
    const sink = downsampled
      ? new MinMaxBuckets(columns, from, to, query.points)
      : new FullResolution(columns);
    for await (const slice of readRows(data, track.data, i0, i1)) {
      let t: Float64Array;
      if (track.time && time) {
        t = await timesOf(time, track.time.data, slice.start, slice.count, base);
        for (let i = 0; i < t.length; i++) t[i] = (t[i] as number) + hit.offsetNs;
      } else {
        t = new Float64Array(slice.count);
        for (let i = 0; i < slice.count; i++) t[i] = (slice.start + i) * hit.stepNs;
      }
      sink.add(t, slice.values, slice.count);
    }
    const out =
      sink instanceof MinMaxBuckets ? sink.result() : { t: sink.t, min: sink.values, max: sink.values };
    const series = track.columns.map((column, c) => ({
      column,
      min: out.min[c] ?? [],
      max: out.max[c] ?? [],
    }));
    return { ...empty, samples: count, downsampled, t_ns: out.t, series };
  } finally {
    await data.close();
    await time?.close();
  }
}
