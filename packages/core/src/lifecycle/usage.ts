import type { StorageUsage } from '@robotrace/contracts';
import { ArtifactKind } from '@robotrace/contracts';
import { artifact, episode } from '@robotrace/db';
import { and, asc, eq, isNotNull, sql } from 'drizzle-orm';
import type { DbDeps } from '../deps.js';

const LARGEST = 10;

/** Stored bytes and files of a project (uploaded files only), by kind, and its ten largest episodes. */
export async function storageUsage(deps: DbDeps, input: { projectId: string }): Promise<StorageUsage> {
  const stored = and(eq(episode.projectId, input.projectId), isNotNull(artifact.uploadedAt));
  const bytes = sql<number>`coalesce(sum(${artifact.sizeBytes}), 0)::bigint`;
  const files = sql<number>`count(*)::int`;
  const [episodes] = await deps.db
    .select({ n: sql<number>`count(*)::int` })
    .from(episode)
    .where(eq(episode.projectId, input.projectId));
  const kinds = await deps.db
    .select({ kind: artifact.kind, artifacts: files, bytes })
    .from(artifact)
    .innerJoin(episode, eq(episode.id, artifact.episodeId))
    .where(stored)
    .groupBy(artifact.kind)
    .orderBy(asc(artifact.kind));
  const largest = await deps.db
    .select({ id: episode.id, name: episode.name, artifacts: files, bytes })
    .from(artifact)
    .innerJoin(episode, eq(episode.id, artifact.episodeId))
    .where(stored)
    .groupBy(episode.id, episode.name)
    .orderBy(sql`coalesce(sum(${artifact.sizeBytes}), 0) desc`, asc(episode.id))
    .limit(LARGEST);
  const byKind = kinds
    .filter((k) => ArtifactKind.safeParse(k.kind).success)
    .map((k) => ({
      kind: ArtifactKind.parse(k.kind),
      artifacts: Number(k.artifacts),
      bytes: Number(k.bytes),
    }));
  return {
    project_id: input.projectId,
    episodes: Number(episodes?.n ?? 0),
    artifacts: byKind.reduce((sum, k) => sum + k.artifacts, 0),
    bytes: byKind.reduce((sum, k) => sum + k.bytes, 0),
    by_kind: byKind,
    largest: largest.map((l) => ({
      episode_id: l.id,
      name: l.name,
      bytes: Number(l.bytes),
      artifacts: Number(l.artifacts),
    })),
  };
}
