import type { EpisodeReferences } from '@robotrace/contracts';
import { evalResult, evalRun, verifyScenario } from '@robotrace/db';
import { and, eq, inArray, or } from 'drizzle-orm';
import type { DbDeps, ProjectScope } from '../deps.js';

/**
 * What keeps an episode from being deleted silently: eval runs that used it (as a baseline or a candidate) and
 * verification scenarios it was promoted into, within the caller's project.
 */
export async function episodeReferences(
  deps: DbDeps,
  scope: ProjectScope,
  episodeIds: readonly string[],
): Promise<EpisodeReferences> {
  if (episodeIds.length === 0) return { eval_runs: [], scenarios: [] };
  const ids = [...episodeIds];
  const runs = await deps.db
    .selectDistinct({ id: evalRun.id, name: evalRun.name })
    .from(evalResult)
    .innerJoin(evalRun, eq(evalRun.id, evalResult.evalRunId))
    .where(
      and(
        eq(evalRun.projectId, scope.projectId),
        or(inArray(evalResult.baselineEpisodeId, ids), inArray(evalResult.candidateEpisodeId, ids)),
      ),
    );
  const scenarios = await deps.db
    .select({ id: verifyScenario.id, name: verifyScenario.name })
    .from(verifyScenario)
    .where(
      and(eq(verifyScenario.projectId, scope.projectId), inArray(verifyScenario.baselineEpisodeId, ids)),
    );
  return { eval_runs: runs, scenarios };
}

export const hasReferences = (r: EpisodeReferences): boolean => r.eval_runs.length + r.scenarios.length > 0;

/**
 * Removes the links to an episode: eval results whose baseline it is go (the run keeps its other results and its
 * stored summary), a result that names it as the candidate forgets the candidate, scenarios promoted from it
 * go with their verdicts. Answers how many of each were removed.
 */
export async function unlinkReferences(
  deps: DbDeps,
  scope: ProjectScope,
  episodeId: string,
): Promise<{ eval_results: number; scenarios: number }> {
  const runsOfProject = deps.db
    .select({ id: evalRun.id })
    .from(evalRun)
    .where(eq(evalRun.projectId, scope.projectId));
  const asBaseline = await deps.db
    .delete(evalResult)
    .where(and(eq(evalResult.baselineEpisodeId, episodeId), inArray(evalResult.evalRunId, runsOfProject)))
    .returning({ id: evalResult.id });
  const asCandidate = await deps.db
    .update(evalResult)
    .set({ candidateEpisodeId: null })
    .where(and(eq(evalResult.candidateEpisodeId, episodeId), inArray(evalResult.evalRunId, runsOfProject)))
    .returning({ id: evalResult.id });
  const scenarios = await deps.db
    .delete(verifyScenario)
    .where(
      and(eq(verifyScenario.projectId, scope.projectId), eq(verifyScenario.baselineEpisodeId, episodeId)),
    )
    .returning({ id: verifyScenario.id });
  return { eval_results: asBaseline.length + asCandidate.length, scenarios: scenarios.length };
}
