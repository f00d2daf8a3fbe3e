/**
 * Failure insights ("Explain"): what the analyzer reads and what it stores. The rules are pure functions of an
 * InsightInput, so they are tested without a database; the glue that fills the input (episode row, track windows,
 * the fetched trace) lives beside the finalize path.
 */

/** One column of a replay track, on the episode's timeline (seconds from the episode start). */
export interface TrackColumn {
  /** The lane's name, e.g. `joint_states/position[2]` or `gripper/width`. */
  name: string;
  t_s: readonly number[];
  values: readonly number[];
}

/** One span of the episode's trace, on the episode's timeline. */
export interface InsightSpan {
  span_id: string;
  parent_span_id: string | null;
  name: string;
  service: string;
  start_s: number;
  end_s: number;
  status: 'ok' | 'error' | 'unset';
  status_message?: string;
  attributes?: Record<string, unknown>;
}

export interface InsightEpisode {
  status: string;
  failure_reason?: string | null;
  failure_time_s?: number | null;
  duration_s?: number | null;
  metadata: Record<string, unknown>;
}

export interface InsightInput {
  episode: InsightEpisode;
  tracks?: readonly TrackColumn[];
  spans?: readonly InsightSpan[];
  /** When the episode replayed a baseline in an eval run: whether that baseline succeeded. */
  baseline?: { episode_id: string; succeeded: boolean | null };
}

export interface Finding {
  /** Stable rule id, e.g. `track.saturated`. */
  rule: string;
  title: string;
  description: string;
  /** 0..1: how sure the rule is that this explains the failure. Findings are ranked by it. */
  confidence: number;
  /** What the rule saw (numbers, names), shown as is. */
  evidence: Record<string, unknown>;
  next_step: string;
  /** A moment to seek the replay to, seconds from the episode start. */
  seek_s?: number;
  span_id?: string;
  track?: string;
}
