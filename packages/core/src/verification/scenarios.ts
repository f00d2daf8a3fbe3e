import { randomUUID } from 'node:crypto';
import type {
  GateBody,
  PromoteRequest,
  Severity,
  VerifyResultRequest,
  VerifyStatus,
} from '@robotrace/contracts';
import {
  episode,
  type evalResult,
  type evalRun,
  verifyCheck,
  verifyResult,
  verifyScenario,
} from '@robotrace/db';
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { DbClockDeps, ProjectScope } from '../deps.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { isUuid } from '../ids.js';
import { storableJson, storableText } from '../storable.js';

/**
 * Release verification (OFFICIAL_PILLARS.md §2; rules in docs/EVALS.md). A scenario is a baseline episode of the
 * project promoted with a severity; a result is one verdict for one candidate policy version; the gate passes a
 * version when every active critical scenario's newest result for it is `pass`.
 */
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];
const text = (v: string | null | undefined) => (v ? storableText(v).value : null);
const NO_VERDICT = 'no status was sent and metrics.success_candidate is not a boolean: recorded as an error';

export async function promoteScenario(
  deps: DbClockDeps,
  scope: ProjectScope,
  body: PromoteRequest,
): Promise<{ scenario_id: string; promoted: boolean }> {
  const baseline = body.baseline_episode_id.trim().toLowerCase();
  if (!isUuid(baseline)) throw new NotFoundError(`Baseline episode not found: ${baseline}`);
  const [ep] = await deps.db
    .select({ id: episode.id })
    .from(episode)
    .where(and(eq(episode.id, baseline), eq(episode.projectId, scope.projectId)));
  if (!ep) throw new NotFoundError(`Baseline episode not found: ${baseline}`);
  // The unique (project, baseline) index decides a race; a repeat answers the same scenario, promoted: false.
  const inserted = await deps.db
    .insert(verifyScenario)
    .values({
      id: randomUUID(),
      projectId: scope.projectId,
      baselineEpisodeId: ep.id,
      name: text(body.name),
      description: text(body.description),
      severity: body.severity,
      createdAt: deps.clock.now(),
    })
    .onConflictDoNothing()
    .returning({ id: verifyScenario.id });
  if (inserted[0]) return { scenario_id: inserted[0].id, promoted: true };
  const [existing] = await deps.db
    .select({ id: verifyScenario.id, retiredAt: verifyScenario.retiredAt })
    .from(verifyScenario)
    .where(and(eq(verifyScenario.projectId, scope.projectId), eq(verifyScenario.baselineEpisodeId, ep.id)));
  if (!existing) throw new Error('scenario vanished between insert and read');
  // Promoting a retired scenario brings it back (with the severity asked for): that is a promotion.
  if (existing.retiredAt) {
    await deps.db
      .update(verifyScenario)
      .set({ retiredAt: null, severity: body.severity })
      .where(eq(verifyScenario.id, existing.id));
    return { scenario_id: existing.id, promoted: true };
  }
  return { scenario_id: existing.id, promoted: false };
}

/**
 * A verdict from metrics when the caller sent none: `success_candidate` decides; an `error` makes it an error.
 * Null: nothing to decide by (the result route then records `error`, the eval-run hook records nothing).
 */
export function deriveStatus(
  metrics: Record<string, unknown>,
  error: string | null | undefined,
): VerifyStatus | null {
  if (metrics.success_candidate === true) return 'pass';
  if (metrics.success_candidate === false) return 'fail';
  if (error) return 'error';
  return null;
}

async function findScenario(deps: DbClockDeps, scope: ProjectScope, id: string) {
  const sid = id.trim().toLowerCase();
  if (!isUuid(sid)) throw new NotFoundError('Scenario not found');
  const [row] = await deps.db
    .select()
    .from(verifyScenario)
    .where(and(eq(verifyScenario.id, sid), eq(verifyScenario.projectId, scope.projectId)));
  if (!row) throw new NotFoundError('Scenario not found');
  return row;
}

const optionalUuid = (v: string | null | undefined, field: string): string | null => {
  const s = v?.trim().toLowerCase();
  if (!s) return null;
  if (!isUuid(s))
    throw new ValidationError(`Invalid request body: ${field}: not an id`, {
      issues: [{ path: field, message: 'not an id' }],
    });
  return s;
};

export async function recordVerifyResult(
  deps: DbClockDeps,
  scope: ProjectScope,
  body: VerifyResultRequest,
): Promise<{ verify_result_id: string; scenario_id: string; status: VerifyStatus }> {
  const scenario = await findScenario(deps, scope, body.scenario_id);
  // No verdict to derive: an unverifiable result is an error (it blocks a critical scenario, never passes one).
  const derived = body.status ?? deriveStatus(body.metrics, body.error);
  const status = derived ?? 'error';
  const error = derived ? body.error : (body.error ?? NO_VERDICT);
  const id = randomUUID();
  await deps.db.insert(verifyResult).values({
    id,
    scenarioId: scenario.id,
    projectId: scope.projectId,
    candidatePolicyVersion: storableText(body.candidate_policy_version.trim()).value,
    status,
    metrics: storableJson(body.metrics).value,
    candidateEpisodeId: optionalUuid(body.candidate_episode_id, 'candidate_episode_id'),
    evalRunId: optionalUuid(body.eval_run_id, 'eval_run_id'),
    error: text(error),
    createdAt: deps.clock.now(),
  });
  return { verify_result_id: id, scenario_id: scenario.id, status };
}

type Latest = 'pass' | 'fail' | 'error' | 'pending';

/** The newest result per scenario for one candidate version. */
async function latestStatuses(
  deps: DbClockDeps,
  scope: ProjectScope,
  version: string,
  scenarioIds: string[],
): Promise<Map<string, Latest>> {
  if (scenarioIds.length === 0) return new Map();
  const rows = await deps.db
    .selectDistinctOn([verifyResult.scenarioId], {
      scenarioId: verifyResult.scenarioId,
      status: verifyResult.status,
    })
    .from(verifyResult)
    .where(
      and(
        eq(verifyResult.projectId, scope.projectId),
        eq(verifyResult.candidatePolicyVersion, version),
        inArray(verifyResult.scenarioId, scenarioIds),
      ),
    )
    .orderBy(verifyResult.scenarioId, desc(verifyResult.createdAt), desc(verifyResult.id));
  return new Map(rows.map((r) => [r.scenarioId, r.status as Latest]));
}

export interface ScenarioRow {
  id: string;
  baselineEpisodeId: string;
  baselineName: string | null;
  name: string | null;
  description: string | null;
  severity: Severity;
  createdAt: Date;
  retiredAt: Date | null;
}

export async function listScenarios(
  deps: DbClockDeps,
  scope: ProjectScope,
  opts: { includeRetired?: boolean } = {},
): Promise<ScenarioRow[]> {
  const rows = await deps.db
    .select({
      id: verifyScenario.id,
      baselineEpisodeId: verifyScenario.baselineEpisodeId,
      baselineName: episode.name,
      name: verifyScenario.name,
      description: verifyScenario.description,
      severity: verifyScenario.severity,
      createdAt: verifyScenario.createdAt,
      retiredAt: verifyScenario.retiredAt,
    })
    .from(verifyScenario)
    .innerJoin(episode, eq(episode.id, verifyScenario.baselineEpisodeId))
    .where(
      and(
        eq(verifyScenario.projectId, scope.projectId),
        opts.includeRetired ? undefined : isNull(verifyScenario.retiredAt),
      ),
    )
    .orderBy(
      sql`case ${verifyScenario.severity} when 'critical' then 0 when 'warning' then 1 else 2 end`,
      asc(verifyScenario.createdAt),
    );
  return rows.map((r) => ({ ...r, severity: r.severity as Severity }));
}

const label = (s: ScenarioRow) => s.name ?? s.baselineName ?? `baseline ${s.baselineEpisodeId.slice(0, 8)}`;

/** The gate for one candidate version, without recording it (the portal's view). */
export async function evaluateGate(
  deps: DbClockDeps,
  scope: ProjectScope,
  rawVersion: string,
): Promise<GateBody> {
  const version = rawVersion.trim();
  const scenarios = await listScenarios(deps, scope);
  const latest = await latestStatuses(
    deps,
    scope,
    version,
    scenarios.map((s) => s.id),
  );
  const body: GateBody = {
    passed: true,
    candidate_policy_version: version,
    critical_total: 0,
    critical_passed: 0,
    critical_failed: 0,
    critical_pending: 0,
    scenarios: [],
    blockers: [],
  };
  for (const s of scenarios) {
    const status = latest.get(s.id) ?? 'pending';
    body.scenarios.push({
      scenario_id: s.id,
      baseline_episode_id: s.baselineEpisodeId,
      severity: s.severity,
      name: s.name,
      latest_status: status,
    });
    if (s.severity !== 'critical') continue;
    body.critical_total++;
    if (status === 'pass') body.critical_passed++;
    else if (status === 'pending') body.critical_pending++;
    else body.critical_failed++;
    if (status !== 'pass')
      body.blockers.push(
        status === 'pending'
          ? `critical scenario "${label(s)}" has no result for ${version}`
          : `critical scenario "${label(s)}" ${status === 'fail' ? 'failed' : 'errored'} on ${version}`,
      );
  }
  body.passed = body.critical_failed === 0 && body.critical_pending === 0;
  return body;
}

/** `POST /api/verify/check`: the gate, recorded in the history the verify page shows. */
export async function checkGate(deps: DbClockDeps, scope: ProjectScope, version: string): Promise<GateBody> {
  const body = await evaluateGate(deps, scope, version);
  await deps.db.insert(verifyCheck).values({
    id: randomUUID(),
    projectId: scope.projectId,
    candidatePolicyVersion: storableText(body.candidate_policy_version).value,
    passed: body.passed,
    body: body as unknown as Record<string, unknown>,
    createdAt: deps.clock.now(),
  });
  return body;
}

export async function listChecks(deps: DbClockDeps, scope: ProjectScope, limit = 50) {
  return deps.db
    .select()
    .from(verifyCheck)
    .where(eq(verifyCheck.projectId, scope.projectId))
    .orderBy(desc(verifyCheck.createdAt), desc(verifyCheck.id))
    .limit(limit);
}

/** The candidate versions the verify page offers: those with results or checks, newest first. */
export async function candidateVersions(
  deps: DbClockDeps,
  scope: ProjectScope,
  limit = 30,
): Promise<string[]> {
  const rows = await deps.db
    .select({ v: verifyResult.candidatePolicyVersion, at: sql<Date>`max(${verifyResult.createdAt})` })
    .from(verifyResult)
    .where(eq(verifyResult.projectId, scope.projectId))
    .groupBy(verifyResult.candidatePolicyVersion)
    .orderBy(desc(sql`max(${verifyResult.createdAt})`))
    .limit(limit);
  return rows.map((r) => r.v);
}

export async function setScenarioSeverity(
  deps: DbClockDeps,
  scope: ProjectScope,
  id: string,
  severity: Severity,
): Promise<void> {
  const s = await findScenario(deps, scope, id);
  await deps.db.update(verifyScenario).set({ severity }).where(eq(verifyScenario.id, s.id));
}

export async function retireScenario(deps: DbClockDeps, scope: ProjectScope, id: string): Promise<void> {
  const s = await findScenario(deps, scope, id);
  if (!s.retiredAt)
    await deps.db
      .update(verifyScenario)
      .set({ retiredAt: deps.clock.now() })
      .where(eq(verifyScenario.id, s.id));
}

/** The scenario an episode is the baseline of (the episode page's promote card). */
export async function scenarioOfEpisode(deps: DbClockDeps, scope: ProjectScope, episodeId: string) {
  if (!isUuid(episodeId)) return null;
  const [row] = await deps.db
    .select()
    .from(verifyScenario)
    .where(
      and(
        eq(verifyScenario.projectId, scope.projectId),
        eq(verifyScenario.baselineEpisodeId, episodeId.toLowerCase()),
      ),
    );
  return row ?? null;
}

/**
 * A completed eval run records a verdict on every active scenario whose baseline it replayed, unless a result
 * from this run is already there (the official `verify check` records its own before completing the run).
 * Verdicts: a failed result is `error`; a complete one is `pass`/`fail` by `success_candidate`; a complete one
 * without a boolean success records nothing (no verdict to give).
 */
export async function recordRunOnScenarios(
  deps: DbClockDeps,
  scope: ProjectScope,
  run: typeof evalRun.$inferSelect,
  results: Array<typeof evalResult.$inferSelect>,
): Promise<number> {
  const baselines = results.map((r) => r.baselineEpisodeId);
  if (baselines.length === 0) return 0;
  const scenarios = await deps.db
    .select({ id: verifyScenario.id, baseline: verifyScenario.baselineEpisodeId })
    .from(verifyScenario)
    .where(
      and(
        eq(verifyScenario.projectId, scope.projectId),
        isNull(verifyScenario.retiredAt),
        inArray(verifyScenario.baselineEpisodeId, baselines),
      ),
    );
  if (scenarios.length === 0) return 0;
  const already = await deps.db
    .select({ scenarioId: verifyResult.scenarioId })
    .from(verifyResult)
    .where(and(eq(verifyResult.projectId, scope.projectId), eq(verifyResult.evalRunId, run.id)));
  const done = new Set(already.map((r) => r.scenarioId));
  const now = deps.clock.now();
  const rows = scenarios.flatMap((s) => {
    if (done.has(s.id)) return [];
    const r = results.find((x) => x.baselineEpisodeId === s.baseline);
    if (!r || r.status === 'pending') return [];
    const status: VerifyStatus | null = r.status === 'failed' ? 'error' : deriveStatus(r.metrics, null);
    if (!status) return [];
    return [
      {
        id: randomUUID(),
        scenarioId: s.id,
        projectId: scope.projectId,
        candidatePolicyVersion: run.candidatePolicyVersion,
        status,
        metrics: r.metrics,
        candidateEpisodeId: r.candidateEpisodeId,
        evalRunId: run.id,
        error: r.error,
        createdAt: now,
      },
    ];
  });
  if (rows.length > 0) await deps.db.insert(verifyResult).values(rows);
  return rows.length;
}
