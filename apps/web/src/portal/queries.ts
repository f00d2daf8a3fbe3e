import type { ProjectScope } from '@robotrace/core';
import { type Database, episode, user } from '@robotrace/db';
import { and, eq, sql } from 'drizzle-orm';

/** The query behind countEpisodesOfTrace (exported for the benchmark's EXPLAIN). */
export function episodesOfTraceCountQuery(db: Database, scope: ProjectScope, traceId: string, cap: number) {
  const capped = db
    .select({ one: sql`1` })
    .from(episode)
    .where(and(eq(episode.projectId, scope.projectId), eq(episode.traceId, traceId)))
    .limit(cap)
    .as('capped');
  return db.select({ n: sql<number>`count(*)::int` }).from(capped);
}

/**
 * How many episodes of the project carry this trace id, counted up to `cap` (a range of
 * episode_project_trace_idx; never an unbounded count).
 */
export async function countEpisodesOfTrace(
  db: Database,
  scope: ProjectScope,
  traceId: string,
  cap: number,
): Promise<number> {
  const [row] = await episodesOfTraceCountQuery(db, scope, traceId, cap);
  return Number(row?.n ?? 0);
}

/** Whether any user exists yet (the first visitor creates the owner account). */
export async function anyUserExists(db: Database): Promise<boolean> {
  const rows = await db.select({ id: user.id }).from(user).limit(1);
  return rows.length > 0;
}
