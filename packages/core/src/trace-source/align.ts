/**
 * Where an episode's timeline starts on the clock its spans carry (issue: span lane, "alignment on the robot's
 * clock"). Spans carry the emitting machine's clock; the server's created_at does not. In order of trust:
 * 1. tracks with absolute `_t_ns` (ROS 2 bags): already on the robot's clock — the timeline starts at their earliest
 *    first timestamp (OFFICIAL_PILLARS.md §5), and spans line up without any anchor;
 * 2. the start our SDKs send at create, on their own clock (`start_episode`'s start; `log_episode`: now − duration);
 * 3. the start of the episode's own span in the fetched trace (the official SDK sends no start);
 * 4. created_at − duration_s (server clock: may be off by the robot's clock skew; the lane says so).
 * A user's shift (kept in the URL) is added last.
 */

export type AlignmentAnchor = 'absolute_tracks' | 'client_start' | 'episode_span' | 'created_at';

export interface AlignmentInput {
  /** Earliest first `_t_ns` across the episode's absolute-time tracks, Unix ns. */
  absoluteTracksStartNs?: bigint | null;
  /** The start the SDK sent, Unix ns on the robot's clock. */
  clientStartNs?: bigint | null;
  /** Start of the span whose id the episode carries, Unix ns, when that span is in the fetched trace. */
  episodeSpanStartNs?: bigint | null;
  createdAt: Date;
  durationS?: number | null;
  /** The user's shift, milliseconds (positive moves the spans later on the timeline). */
  userOffsetMs?: number;
}

export interface Alignment {
  anchor: AlignmentAnchor;
  /** Unix ns of the timeline's t = 0 on the spans' clock, after the user's shift. */
  startUnixNs: bigint;
  /** One line for the lane: which anchor, and what to distrust. */
  note: string;
}

const NOTES: Record<AlignmentAnchor, string> = {
  absolute_tracks: "aligned on the tracks' absolute timestamps (the robot's clock)",
  client_start: 'aligned on the start the SDK sent (the robot’s clock)',
  episode_span: "aligned on the start of the episode's own span",
  created_at:
    "aligned on the server's receive time minus the duration: off by any clock skew between robot and server",
};

export function alignEpisode(a: AlignmentInput): Alignment {
  let anchor: AlignmentAnchor;
  let start: bigint;
  if (a.absoluteTracksStartNs != null) {
    anchor = 'absolute_tracks';
    start = a.absoluteTracksStartNs;
  } else if (a.clientStartNs != null) {
    anchor = 'client_start';
    start = a.clientStartNs;
  } else if (a.episodeSpanStartNs != null) {
    anchor = 'episode_span';
    start = a.episodeSpanStartNs;
  } else {
    anchor = 'created_at';
    const durationMs =
      typeof a.durationS === 'number' && Number.isFinite(a.durationS) ? a.durationS * 1000 : 0;
    start = BigInt(Math.round(a.createdAt.getTime() - durationMs)) * 1_000_000n;
  }
  const shiftMs = Number.isFinite(a.userOffsetMs ?? 0) ? (a.userOffsetMs ?? 0) : 0;
  // A positive shift moves the spans later: the timeline's zero moves earlier on the spans' clock.
  start -= BigInt(Math.round(shiftMs * 1_000_000));
  const note = shiftMs !== 0 ? `${NOTES[anchor]}, shifted by ${shiftMs} ms` : NOTES[anchor];
  return { anchor, startUnixNs: start, note };
}

/** A span time (Unix ns, decimal string) as seconds on the episode's timeline. */
export function toTimelineS(unixNs: string, alignment: Alignment): number {
  return Number(BigInt(unixNs) - alignment.startUnixNs) / 1e9;
}
