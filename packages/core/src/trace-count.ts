import { episode } from '@robotrace/db';
import { and, eq, sql } from 'drizzle-orm';
import type { DbDeps, ProjectScope } from './deps.js';

/** The query behind countEpisodesOfTrace (exported for the benchmark's EXPLAIN). */
export function episodesOfTraceCountQuery(deps: DbDeps, scope: ProjectScope, traceId: string, cap: number) {
  const capped = deps.db
    .select({ one: sql`1` })
    .from(episode)
    .where(and(eq(episode.projectId, scope.projectId), eq(episode.traceId, traceId)))
    .limit(cap)
    .as('capped');
  return deps.db.select({ n: sql<number>`count(*)::int` }).from(capped);
}

/**
 * How many episodes of the project carry this trace id, counted up to `cap` (a range of
 * episode_project_trace_idx; never an unbounded count).
 */
export async function countEpisodesOfTrace(
  deps: DbDeps,
  scope: ProjectScope,
  traceId: string,
  cap: number,
): Promise<number> {
  const [row] = await episodesOfTraceCountQuery(deps, scope, traceId, cap);
  return Number(row?.n ?? 0);
}
