import { randomUUID } from 'node:crypto';
import type {
  CreateEvalRunRequest,
  EvalResultRequest,
  EvalResultResponse,
  EvalRunStatus,
  FinalizeEvalRunRequest,
  FinalizeEvalRunResponse,
} from '@robotrace/contracts';
import { episode, evalResult, evalRun } from '@robotrace/db';
import { and, asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import type { DbClockDeps, ProjectScope } from '../deps.js';
import { ConflictError, NotFoundError, PayloadTooLargeError, ValidationError } from '../errors.js';
import { isUuid } from '../ids.js';
import { storableJson, storableText } from '../storable.js';
import { recordRunOnScenarios } from '../verification/scenarios.js';
import { type EvalSummary, summarizeEvalRun } from './summary.js';

/**
 * Eval runs (OFFICIAL_PILLARS.md §1). Every statement is scoped to the caller's project; a run or baseline of
 * another project is a 404, as an unknown one is. A 429 is answered before a handler runs, so the SDK's retried
 * create writes nothing twice; an Idempotency-Key (the route's wrapper) makes any repeat answer the first one.
 */
const MAX_METRICS_BYTES = 256 * 1024;
const FINAL: readonly EvalRunStatus[] = ['completed', 'failed', 'cancelled'];

function checkMetrics(metrics: Record<string, unknown>, field: string): Record<string, unknown> {
  const stored = storableJson(metrics).value;
  const bytes = Buffer.byteLength(JSON.stringify(stored));
  if (bytes > MAX_METRICS_BYTES)
    throw new PayloadTooLargeError(`${field} is ${bytes} bytes; the limit is ${MAX_METRICS_BYTES}`, {
      field,
      bytes,
      limit: MAX_METRICS_BYTES,
    });
  return stored;
}

/** The baselines as stored ids: each must be an episode of the project (the first missing one is named). */
async function resolveBaselines(
  deps: DbClockDeps,
  scope: ProjectScope,
  ids: readonly string[],
): Promise<string[]> {
  const unique = [...new Set(ids.map((id) => id.trim().toLowerCase()))];
  const bad = unique.find((id) => !isUuid(id));
  if (bad) throw new NotFoundError(`Baseline episode not found: ${bad}`);
  const found = await deps.db
    .select({ id: episode.id })
    .from(episode)
    .where(and(eq(episode.projectId, scope.projectId), inArray(episode.id, unique)));
  const have = new Set(found.map((r) => r.id));
  const missing = unique.find((id) => !have.has(id));
  if (missing) throw new NotFoundError(`Baseline episode not found: ${missing}`);
  return unique;
}

export interface CreatedEvalRun {
  eval_run_id: string;
  status: 'pending';
  episode_count: number;
  portal_url: string;
}

export async function createEvalRun(
  deps: DbClockDeps,
  scope: ProjectScope,
  body: CreateEvalRunRequest,
  ctx: { baseUrl: string },
): Promise<CreatedEvalRun> {
  const baselines = await resolveBaselines(deps, scope, body.baseline_episode_ids);
  const metadata = checkMetrics(body.metadata ?? {}, 'metadata');
  const id = randomUUID();
  const now = deps.clock.now();
  await deps.db.transaction(async (tx) => {
    await tx.insert(evalRun).values({
      id,
      projectId: scope.projectId,
      name: body.name ? storableText(body.name).value : null,
      candidatePolicyVersion: storableText(body.candidate_policy_version.trim()).value,
      baselinePolicyVersion: body.baseline_policy_version
        ? storableText(body.baseline_policy_version.trim()).value
        : null,
      status: 'pending',
      metadata,
      createdAt: now,
    });
    await tx.insert(evalResult).values(
      baselines.map((baselineEpisodeId, position) => ({
        id: randomUUID(),
        evalRunId: id,
        baselineEpisodeId,
        status: 'pending',
        metrics: {},
        position,
        updatedAt: now,
      })),
    );
  });
  return {
    eval_run_id: id,
    status: 'pending',
    episode_count: baselines.length,
    portal_url: `${ctx.baseUrl}/portal/evals/${id}`,
  };
}

type RunRow = typeof evalRun.$inferSelect;

async function findRun(deps: DbClockDeps, scope: ProjectScope, id: string, lock = false): Promise<RunRow> {
  if (!isUuid(id)) throw new NotFoundError('Eval run not found');
  const q = deps.db
    .select()
    .from(evalRun)
    .where(and(eq(evalRun.id, id.toLowerCase()), eq(evalRun.projectId, scope.projectId)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw new NotFoundError('Eval run not found');
  return row;
}

async function progress(deps: DbClockDeps, runId: string): Promise<{ completed: number; failed: number }> {
  const rows = await deps.db
    .select({ status: evalResult.status, n: count() })
    .from(evalResult)
    .where(eq(evalResult.evalRunId, runId))
    .groupBy(evalResult.status);
  const of = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  return { completed: of('complete'), failed: of('failed') };
}

/** Upserts the result of one baseline of an open run; a repeat of the same result changes nothing. */
export async function recordEvalResult(
  deps: DbClockDeps,
  scope: ProjectScope,
  runId: string,
  body: EvalResultRequest,
): Promise<EvalResultResponse> {
  const metrics = checkMetrics(body.metrics, 'metrics');
  const baseline = body.baseline_episode_id.trim().toLowerCase();
  const candidate = body.candidate_episode_id?.trim().toLowerCase() || null;
  if (candidate && !isUuid(candidate))
    throw new ValidationError('Invalid request body: candidate_episode_id: not an episode id', {
      issues: [{ path: 'candidate_episode_id', message: 'not an episode id' }],
    });
  return deps.db.transaction(async (tx) => {
    const t = { ...deps, db: tx };
    // The run's row lock orders this upsert against a concurrent finalize.
    const run = await findRun(t, scope, runId, true);
    if (FINAL.includes(run.status as EvalRunStatus))
      throw new ConflictError(`Eval run is already ${run.status}; it takes no more results`, {
        status: run.status,
      });
    const rows = await tx
      .update(evalResult)
      .set({
        status: body.status,
        metrics,
        candidateEpisodeId: candidate,
        error: body.error ? storableText(body.error).value : null,
        updatedAt: deps.clock.now(),
      })
      .where(
        and(
          eq(evalResult.evalRunId, run.id),
          isUuid(baseline) ? eq(evalResult.baselineEpisodeId, baseline) : sql`false`,
        ),
      )
      .returning({ id: evalResult.id });
    const row = rows[0];
    if (!row) throw new NotFoundError(`Baseline episode ${baseline} is not part of this eval run`);
    if (run.status === 'pending')
      await tx.update(evalRun).set({ status: 'running' }).where(eq(evalRun.id, run.id));
    const p = await progress(t, run.id);
    return {
      eval_result_id: row.id,
      run_status: 'running',
      episodes_completed: p.completed,
      episodes_failed: p.failed,
    };
  });
}

/**
 * Closes a run: the summary is computed from its results and stored with it. A repeat with the same status
 * answers the stored summary; another status is a 409. Completing a run also records results on the
 * verification scenarios whose baselines it replayed (verification/scenarios.ts).
 */
export async function finalizeEvalRun(
  deps: DbClockDeps,
  scope: ProjectScope,
  runId: string,
  body: FinalizeEvalRunRequest,
): Promise<FinalizeEvalRunResponse> {
  const incoming = checkMetrics(body.metadata ?? {}, 'metadata');
  return deps.db.transaction(async (tx) => {
    const t = { ...deps, db: tx };
    const run = await findRun(t, scope, runId, true);
    if (FINAL.includes(run.status as EvalRunStatus)) {
      if (run.status !== body.status)
        throw new ConflictError(`Eval run is already ${run.status}; it cannot become ${body.status}`, {
          status: run.status,
        });
      return { eval_run_id: run.id, status: body.status, summary: run.summary as unknown as EvalSummary };
    }
    const results = await tx.select().from(evalResult).where(eq(evalResult.evalRunId, run.id));
    const summary = summarizeEvalRun(
      results.map((r) => ({ status: r.status as 'pending' | 'complete' | 'failed', metrics: r.metrics })),
    );
    await tx
      .update(evalRun)
      .set({
        status: body.status,
        summary: summary as unknown as Record<string, unknown>,
        metadata: { ...run.metadata, ...incoming },
        finalizedAt: deps.clock.now(),
      })
      .where(eq(evalRun.id, run.id));
    if (body.status === 'completed') await recordRunOnScenarios(t, scope, run, results);
    return { eval_run_id: run.id, status: body.status, summary };
  });
}

// ---- Portal reads ----

export interface EvalRunListItem {
  id: string;
  name: string | null;
  candidatePolicyVersion: string;
  baselinePolicyVersion: string | null;
  status: string;
  recommend: 'ship' | 'hold' | null;
  betterCount: number | null;
  metricTotal: number | null;
  total: number;
  completed: number;
  failed: number;
  createdAt: Date;
}

export async function listEvalRuns(
  deps: DbClockDeps,
  scope: ProjectScope,
  limit = 100,
): Promise<EvalRunListItem[]> {
  const runs = await deps.db
    .select()
    .from(evalRun)
    .where(eq(evalRun.projectId, scope.projectId))
    .orderBy(desc(evalRun.createdAt), desc(evalRun.id))
    .limit(limit);
  if (runs.length === 0) return [];
  const counts = await deps.db
    .select({ run: evalResult.evalRunId, status: evalResult.status, n: count() })
    .from(evalResult)
    .where(
      inArray(
        evalResult.evalRunId,
        runs.map((r) => r.id),
      ),
    )
    .groupBy(evalResult.evalRunId, evalResult.status);
  return runs.map((r) => {
    const of = (s?: string) =>
      counts
        .filter((c) => c.run === r.id && (s === undefined || c.status === s))
        .reduce((a, c) => a + Number(c.n), 0);
    const summary = r.summary as unknown as EvalSummary | null;
    return {
      id: r.id,
      name: r.name,
      candidatePolicyVersion: r.candidatePolicyVersion,
      baselinePolicyVersion: r.baselinePolicyVersion,
      status: r.status,
      recommend: summary?.recommend ?? null,
      betterCount: summary?.better_count ?? null,
      metricTotal: summary?.metric_total ?? null,
      total: of(),
      completed: of('complete'),
      failed: of('failed'),
      createdAt: r.createdAt,
    };
  });
}

export interface EvalRunDetail {
  run: RunRow;
  /** The stored summary of a finalized run; for an open run, the summary of its results so far. */
  summary: EvalSummary;
  results: Array<typeof evalResult.$inferSelect>;
}

export async function getEvalRun(deps: DbClockDeps, scope: ProjectScope, id: string): Promise<EvalRunDetail> {
  const run = await findRun(deps, scope, id);
  const results = await deps.db
    .select()
    .from(evalResult)
    .where(eq(evalResult.evalRunId, run.id))
    .orderBy(asc(evalResult.position));
  const summary =
    (run.summary as unknown as EvalSummary | null) ??
    summarizeEvalRun(results.map((r) => ({ status: r.status as 'pending', metrics: r.metrics })));
  return { run, summary, results };
}

/** The eval run an episode's metadata names, when it is one of the project's (the "Part of eval run" pill). */
export async function evalRunOfEpisode(
  deps: DbClockDeps,
  scope: ProjectScope,
  metadata: Record<string, unknown>,
): Promise<{ id: string; name: string | null; candidatePolicyVersion: string } | null> {
  const id = metadata.eval_run_id;
  if (typeof id !== 'string' || !isUuid(id)) return null;
  const [row] = await deps.db
    .select({ id: evalRun.id, name: evalRun.name, candidatePolicyVersion: evalRun.candidatePolicyVersion })
    .from(evalRun)
    .where(and(eq(evalRun.id, id.toLowerCase()), eq(evalRun.projectId, scope.projectId)));
  return row ?? null;
}

/** Names and statuses of the project's episodes among `ids` (others' ids simply do not appear). */
export async function episodeLabels(
  deps: DbClockDeps,
  scope: ProjectScope,
  ids: readonly string[],
): Promise<Map<string, { name: string | null; status: string }>> {
  const wanted = [...new Set(ids.filter((id) => isUuid(id)).map((id) => id.toLowerCase()))];
  if (wanted.length === 0) return new Map();
  const rows = await deps.db
    .select({ id: episode.id, name: episode.name, status: episode.status })
    .from(episode)
    .where(and(eq(episode.projectId, scope.projectId), inArray(episode.id, wanted)));
  return new Map(rows.map((r) => [r.id, { name: r.name, status: r.status }]));
}
