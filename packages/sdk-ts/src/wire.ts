/**
 * The JSON shapes of the HTTP API (WIRE_CONTRACT.md), snake_case as on the wire. The SDK is published on its
 * own, so it declares these instead of importing the private Zod contracts; a unit test checks that they stay
 * assignable to `@robotrace/contracts`.
 */

export type EpisodeSource = 'real' | 'sim' | 'replay';
export type ArtifactKind = 'video' | 'sensors' | 'actions';
export type EpisodeStatus = 'recording' | 'ready' | 'failed';

export const EPISODE_SOURCES: readonly EpisodeSource[] = ['real', 'sim', 'replay'];
export const ARTIFACT_KINDS: readonly ArtifactKind[] = ['video', 'sensors', 'actions'];
export const EPISODE_STATUSES: readonly EpisodeStatus[] = ['recording', 'ready', 'failed'];

/** W3C trace context of one span, as sent to and stored by the server. */
export interface OtelBlock {
  trace_id: string;
  span_id: string;
  traceparent?: string;
  tracestate?: string;
}

export type JsonObject = { [key: string]: unknown };

export interface CreateEpisodeBody {
  source: EpisodeSource;
  request_uploads: ArtifactKind[];
  name?: string;
  robot?: string;
  policy_version?: string;
  env_version?: string;
  git_sha?: string;
  seed?: number;
  fps?: number;
  metadata?: JsonObject;
  otel?: OtelBlock;
  /**
   * Ours (optional; the official SDK never sends it): the episode's start on this machine's clock, Unix
   * nanoseconds as a decimal string (`^[1-9]\d{0,18}$`). The span lane aligns the episode's trace on it.
   */
  started_at_unix_ns?: string;
}

export interface UploadUrl {
  kind: ArtifactKind;
  url: string;
  expires_at: string;
  public_url?: string | null;
}

export interface CreateEpisodeResult {
  episode_id: string;
  status: EpisodeStatus;
  storage: string;
  upload_urls: UploadUrl[];
  portal_url?: string;
  warnings?: string[];
}

export interface FinalizeEpisodeBody {
  status: 'ready' | 'failed';
  duration_s?: number;
  fps?: number;
  bytes_total?: number;
  failure_time_s?: number;
  metadata?: JsonObject;
}

export interface ArtifactRecord {
  kind: ArtifactKind;
  uploaded: boolean;
  size_bytes: number | null;
  content_type: string | null;
  url: string;
}

/** An episode as `GET /api/episodes/{id}` returns it. */
export interface EpisodeRecord {
  id: string;
  episode_id: string;
  name: string | null;
  source: EpisodeSource;
  status: EpisodeStatus;
  robot: string | null;
  policy_version: string | null;
  env_version: string | null;
  git_sha: string | null;
  seed: number | null;
  fps: number | null;
  duration_s: number | null;
  failure_time_s: number | null;
  bytes_total: number | null;
  metadata: JsonObject;
  otel: OtelBlock | null;
  artifacts: ArtifactRecord[];
  created_at: string;
  finalized_at: string | null;
  portal_url: string;
}

export interface EpisodePage {
  data: EpisodeRecord[];
  next_cursor: string | null;
}

export interface ListEpisodesQuery {
  trace_id?: string;
  span_id?: string;
  q?: string;
  status?: EpisodeStatus;
  source?: EpisodeSource;
  policy_version?: string;
  robot?: string;
  limit?: number;
  cursor?: string;
}

/** `DELETE /api/episodes/{id}`: what went with the episode. */
export interface DeleteEpisodeResult {
  episode_id: string;
  deleted: true;
  artifacts_deleted: number;
  bytes_freed: number;
  references_removed: { eval_results: number; scenarios: number };
  /** Storage refused a file deletion: the episode is gone from every read, the server retries the files. */
  pending_storage?: boolean;
}

/** One reference that keeps an episode from being deleted (the 409 `episode_referenced` details). */
export interface EpisodeReference {
  id: string;
  name: string | null;
}

export interface EpisodeReferences {
  eval_runs: EpisodeReference[];
  scenarios: EpisodeReference[];
}

/** The filters of `GET /api/episodes/export`: those of the list, without paging. */
export type ExportEpisodesQuery = Omit<ListEpisodesQuery, 'limit' | 'cursor'> & {
  created_after?: string;
  created_before?: string;
};

/** One file of an exported episode; `url` is the absolute download URL the episode view offers. */
export interface ExportedArtifact {
  kind: ArtifactKind;
  url: string;
  bytes: number | null;
  content_type: string | null;
  /** Added by `robotrace episodes export --artifacts-dir`: where the file was written. */
  local_path?: string;
}

/** One line of `GET /api/episodes/export`: every field of the episode, its files as download URLs. */
export type ExportedEpisode = Omit<EpisodeRecord, 'artifacts'> & { artifacts: ExportedArtifact[] };
