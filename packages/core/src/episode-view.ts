import type {
  Artifact,
  ArtifactKind,
  Episode,
  EpisodeSource,
  EpisodeStatus,
  OtelBlock,
} from '@robotrace/contracts';
import type { artifact, episode } from '@robotrace/db';

export type EpisodeRow = typeof episode.$inferSelect;
export type ArtifactRow = typeof artifact.$inferSelect;

export const portalUrl = (baseUrl: string, id: string) => `${baseUrl}/portal/episodes/${id}`;

/** The stored block, read back from metadata.otel (ingest only ever stores a normalised one there). */
export function otelOf(row: EpisodeRow): OtelBlock | null {
  const block = row.metadata.otel as OtelBlock | undefined;
  return block && row.traceId && row.spanId ? block : null;
}

/** Row → wire shape of `GET /api/episodes/{id}` (contracts `Episode`). */
export function toEpisode(row: EpisodeRow, artifacts: ArtifactRow[], baseUrl: string): Episode {
  return {
    id: row.id,
    episode_id: row.id,
    name: row.name,
    source: row.source as EpisodeSource,
    status: row.status as EpisodeStatus,
    robot: row.robot,
    policy_version: row.policyVersion,
    env_version: row.envVersion,
    git_sha: row.gitSha,
    seed: row.seed,
    fps: row.fps,
    duration_s: row.durationS,
    failure_time_s: row.failureTimeS,
    bytes_total: row.bytesTotal,
    metadata: row.metadata,
    otel: otelOf(row),
    artifacts: artifacts.map((a) => toArtifact(a, baseUrl)),
    created_at: row.createdAt.toISOString(),
    finalized_at: row.finalizedAt?.toISOString() ?? null,
    portal_url: portalUrl(baseUrl, row.id),
  };
}

function toArtifact(a: ArtifactRow, baseUrl: string): Artifact {
  return {
    kind: a.kind as ArtifactKind,
    uploaded: a.uploadedAt !== null,
    size_bytes: a.sizeBytes,
    content_type: a.contentType,
    url: `${baseUrl}/api/episodes/${a.episodeId}/artifact/${a.kind}`,
  };
}
