import { type Retention, RetentionRequest, type SweepPreview } from '@robotrace/contracts';
import { artifact, episode, projectRetention, verifyScenario } from '@robotrace/db';
import { and, asc, eq, inArray, lt, ne, notExists, or, type SQL, sql } from 'drizzle-orm';
import type { DbClockDeps, ProjectScope } from '../deps.js';
import { ValidationError } from '../errors.js';

const DAY_MS = 86_400_000;
const SAMPLE_SIZE = 10;

export interface RetentionPolicy {
  keepDays: number | null;
  keepFailedDays: number | null;
}

/**
 * Which of a project's episodes have expired at `now`: failed ones after keep_failed_days (or keep_days when that
 * is unset), the others after keep_days. Episodes promoted into verification are never expired: the release
 * gate replays them.
 */
export function expiredEpisodes(projectId: string, policy: RetentionPolicy, now: Date): SQL | undefined {
  const cutoff = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const failedDays = policy.keepFailedDays ?? policy.keepDays;
  const clauses: SQL[] = [];
  if (failedDays !== null)
    clauses.push(and(eq(episode.status, 'failed'), lt(episode.createdAt, cutoff(failedDays))) as SQL);
  if (policy.keepDays !== null)
    clauses.push(and(ne(episode.status, 'failed'), lt(episode.createdAt, cutoff(policy.keepDays))) as SQL);
  if (clauses.length === 0) return undefined;
  return and(
    eq(episode.projectId, projectId),
    or(...clauses),
    // Both columns, so the (project, baseline) unique index answers it.
    notExists(
      sql`(select 1 from ${verifyScenario} where ${verifyScenario.projectId} = ${episode.projectId} and ${verifyScenario.baselineEpisodeId} = ${episode.id})`,
    ),
  );
}

export async function retentionPolicy(deps: Pick<DbClockDeps, 'db'>, scope: ProjectScope) {
  const [row] = await deps.db
    .select()
    .from(projectRetention)
    .where(eq(projectRetention.projectId, scope.projectId));
  return row;
}

/** What the next sweep deletes in this project (all of it: a sweep works through it in batches). */
export async function previewSweep(deps: DbClockDeps, input: { projectId: string }): Promise<SweepPreview> {
  const row = await retentionPolicy(deps, input);
  const where = row ? expiredEpisodes(input.projectId, row, deps.clock.now()) : undefined;
  if (!where) return { episodes: 0, bytes: 0, sample: [] };
  const [totals] = await deps.db.select({ episodes: sql<number>`count(*)::int` }).from(episode).where(where);
  const [bytes] = await deps.db
    .select({ bytes: sql<number>`coalesce(sum(${artifact.sizeBytes}), 0)::bigint` })
    .from(artifact)
    .where(
      and(
        sql`${artifact.uploadedAt} is not null`,
        inArray(artifact.episodeId, deps.db.select({ id: episode.id }).from(episode).where(where)),
      ),
    );
  const sample = await deps.db
    .select({ id: episode.id, name: episode.name, createdAt: episode.createdAt })
    .from(episode)
    .where(where)
    .orderBy(asc(episode.createdAt), asc(episode.id))
    .limit(SAMPLE_SIZE);
  return {
    episodes: Number(totals?.episodes ?? 0),
    bytes: Number(bytes?.bytes ?? 0),
    sample: sample.map((s) => ({ episode_id: s.id, name: s.name, created_at: s.createdAt.toISOString() })),
  };
}

/** The project's retention, what the next sweep will delete and the last sweep's result. */
export async function getRetention(deps: DbClockDeps, input: { projectId: string }): Promise<Retention> {
  const row = await retentionPolicy(deps, input);
  return {
    keep_days: row?.keepDays ?? null,
    keep_failed_days: row?.keepFailedDays ?? null,
    updated_at: row?.updatedAt?.toISOString() ?? null,
    next_sweep: await previewSweep(deps, input),
    last_sweep: row?.lastSweepStartedAt
      ? {
          started_at: row.lastSweepStartedAt.toISOString(),
          finished_at: row.lastSweepFinishedAt?.toISOString() ?? null,
          deleted: row.lastSweepDeleted,
          bytes_freed: row.lastSweepBytesFreed,
          errors: row.lastSweepErrors,
          message: row.lastSweepMessage,
        }
      : null,
  };
}

/**
 * Sets the project's retention (null keeps forever). Checked here too, not only by the route: the portal's
 * form and the admin command call this directly. An out-of-range value is a 400 naming the field.
 */
export async function setRetention(
  deps: DbClockDeps,
  input: { projectId: string; keep_days: unknown; keep_failed_days: unknown },
): Promise<Retention> {
  const parsed = RetentionRequest.safeParse({
    keep_days: input.keep_days,
    keep_failed_days: input.keep_failed_days,
  });
  if (!parsed.success) throw ValidationError.fromZod(parsed.error);
  const values = {
    keepDays: parsed.data.keep_days,
    keepFailedDays: parsed.data.keep_failed_days,
    updatedAt: deps.clock.now(),
  };
  await deps.db
    .insert(projectRetention)
    .values({ projectId: input.projectId, ...values })
    .onConflictDoUpdate({ target: projectRetention.projectId, set: values });
  return getRetention(deps, input);
}
