import type { ArtifactKind, TrackInfo, TrackList } from '@robotrace/contracts';
import { episode, trackIndex } from '@robotrace/db';
import { and, eq } from 'drizzle-orm';
import type { CoreDeps, ProjectScope } from '../deps.js';
import { NotFoundError } from '../errors.js';
import { isUuid } from '../ids.js';
import type { IndexedTrack } from './model.js';

export type IndexRow = typeof trackIndex.$inferSelect;
export type EpisodeTiming = { id: string; fps: number | null; durationS: number | null };

export const TRACK_KINDS: readonly ArtifactKind[] = ['sensors', 'actions'];

/**
 * The episode (scoped to the caller's project: another project's is a 404) and every index row it has, in ONE
 * query. Each PGlite statement costs about a millisecond whatever it returns, so the list, window and indexing
 * paths read both together rather than the episode first and its rows second.
 */
export async function loadEpisodeIndex(
  deps: Pick<CoreDeps, 'db'>,
  scope: ProjectScope,
  id: string,
): Promise<{ ep: EpisodeTiming; rows: IndexRow[] }> {
  if (!isUuid(id)) throw new NotFoundError('Episode not found');
  const found = await deps.db
    .select({ id: episode.id, fps: episode.fps, durationS: episode.durationS, row: trackIndex })
    .from(episode)
    .leftJoin(
      trackIndex,
      and(eq(trackIndex.episodeId, episode.id), eq(trackIndex.projectId, episode.projectId)),
    )
    .where(and(eq(episode.id, id.toLowerCase()), eq(episode.projectId, scope.projectId)));
  const first = found[0];
  if (!first) throw new NotFoundError('Episode not found');
  const ep = { id: first.id, fps: first.fps, durationS: first.durationS };
  return { ep, rows: found.flatMap((f) => (f.row ? [f.row] : [])) };
}

export interface ResolvedTrack {
  info: TrackInfo;
  track: IndexedTrack;
  row: IndexRow;
  /** Timeline ns of the track's first `_t_ns` (0 for step-spaced tracks). */
  offsetNs: number;
  stepNs: number;
}

/** Spacing of a track without `_t_ns`: the episode's fps, else its duration over the samples, else 1 s. */
function stepNsOf(ep: EpisodeTiming, samples: number): number {
  if (ep.fps && ep.fps > 0) return 1e9 / ep.fps;
  if (ep.durationS && ep.durationS > 0 && samples > 1) return (ep.durationS * 1e9) / (samples - 1);
  return 1e9;
}

/** Puts every track of the episode's index rows on its timeline (pure: no I/O). */
export function resolveTracks(ep: EpisodeTiming, unsorted: readonly IndexRow[]) {
  // sensors before actions, so a clash renames the actions track, the same way every time.
  const rows = [...unsorted].sort(
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
  const resolved: ResolvedTrack[] = [];
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

/** The track list of an episode's index rows, as the API answers it. */
export function trackListOf(ep: EpisodeTiming, rows: readonly IndexRow[]): TrackList {
  const { rows: sorted, resolved, origin } = resolveTracks(ep, rows);
  return {
    tracks: resolved.map((r) => r.info),
    warnings: sorted.flatMap((r) => r.warnings),
    origin_ns: origin === null ? null : origin.toString(),
  };
}
