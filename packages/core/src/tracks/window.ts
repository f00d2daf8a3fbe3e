import type { ArtifactKind, TrackWindow, TrackWindowQuery } from '@robotrace/contracts';
import type { ProjectScope } from '../deps.js';
import { storageKey } from '../episodes.js';
import { NotFoundError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { FullResolution, MinMaxBuckets, type ValueRound } from './downsample.js';
import {
  type EpisodeTiming,
  type IndexRow,
  loadEpisodeIndex,
  type ResolvedTrack,
  resolveTracks,
} from './episode-index.js';
import { artifactKeyOf, indexFile } from './file-index.js';
import type { DataRef, IndexedTrack, TrackFileFormat } from './model.js';
import { dtypeOf } from './npy.js';
import { shortestFloat32 } from './precision.js';
import { lowerBound, ROWS_PER_READ, readRows, timeScratch, timesOf } from './sample-reader.js';
import type { TrackDeps } from './service.js';
import { memberChunks, memberDataOffset } from './zip.js';

type Row = IndexRow;

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
 * Float32 and float16 samples are printed at the shortest float32 round-trip (every value reads back exactly
 * with Math.fround); float64 and integer samples as they are.
 */
function roundOf(track: IndexedTrack): ValueRound | undefined {
  const dtype = dtypeOf(track.data.descr);
  return dtype.kind === 'f' && dtype.itemsize <= 4 ? shortestFloat32 : undefined;
}

/** The window's bounds: absent ones are the track's own start and end. */
function boundsOf(hit: ResolvedTrack, query: TrackWindowQuery): { from: number; to: number } {
  return { from: query.from_ns ?? hit.info.t_start_ns ?? 0, to: query.to_ns ?? hit.info.t_end_ns ?? 0 };
}

async function findTrack(deps: TrackDeps, scope: ProjectScope, episodeId: string, name: string) {
  const { ep, rows } = await loadEpisodeIndex(deps, scope, episodeId);
  const hit = resolveTracks(ep, rows).resolved.find((r) => r.info.name === name);
  if (!hit) throw new NotFoundError('Track not found');
  return { ep, rows, hit };
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
  const { hit } = await findTrack(deps, scope, episodeId, name);
  return buildWindow(deps, hit, query);
}

/** What a window depends on: every index row of the episode (names and the origin span files), timing, query. */
function windowKey(ep: EpisodeTiming, rows: readonly Row[], hit: ResolvedTrack, query: TrackWindowQuery) {
  const { from, to } = boundsOf(hit, query);
  const versions = rows.map(artifactKeyOf).sort().join('|');
  return [versions, ep.fps, ep.durationS, hit.info.name, from, to, query.points].join('\u0000');
}

/**
 * The same window as readTrackWindow, serialized: the JSON text the API answers. Identical repeat requests
 * (the page's first view of every lane, compare, zooming back out) come from `deps.tracks.windows` when the
 * process has one; the index is read first every time, so scoping and a re-index apply to every request.
 */
export async function readTrackWindowJson(
  deps: TrackDeps,
  scope: ProjectScope,
  episodeId: string,
  name: string,
  query: TrackWindowQuery,
): Promise<string> {
  const { ep, rows, hit } = await findTrack(deps, scope, episodeId, name);
  const cache = deps.tracks.windows;
  const key = cache ? windowKey(ep, rows, hit, query) : '';
  const cached = cache?.get(key);
  if (cached !== undefined) return cached;
  const json = JSON.stringify(await buildWindow(deps, hit, query));
  cache?.set(key, json);
  return json;
}

async function buildWindow(
  deps: TrackDeps,
  hit: ResolvedTrack,
  query: TrackWindowQuery,
): Promise<TrackWindow> {
  const { info, track, row } = hit;
  const { from, to } = boundsOf(hit, query);
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
    const round = roundOf(track);
    const sink = downsampled
      ? new MinMaxBuckets(columns, from, to, query.points, round)
      : new FullResolution(columns, round);
    // One set of buffers for every slice: the sinks copy what they keep before the next slice is read.
    const scratch = timeScratch(Math.min(ROWS_PER_READ, count));
    for await (const slice of readRows(data, track.data, i0, i1)) {
      let t: Float64Array;
      if (track.time && time) {
        t = await timesOf(time, track.time.data, slice.start, slice.count, base, scratch);
        for (let i = 0; i < t.length; i++) t[i] = (t[i] as number) + hit.offsetNs;
      } else {
        // Whole ns: at 30 fps a step is 33,333,333.3… ns, and the fraction of a ns only lengthens the JSON.
        t = scratch.out.subarray(0, slice.count);
        for (let i = 0; i < slice.count; i++) t[i] = Math.round((slice.start + i) * hit.stepNs);
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
