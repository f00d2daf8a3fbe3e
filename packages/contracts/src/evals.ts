import { z } from 'zod';
import { Metadata } from './episodes.js';
import { defineRoute } from './route.js';

/**
 * Eval runs (OFFICIAL_PILLARS.md §1): `robotrace replay run` replays a candidate policy against baseline episodes,
 * posts one result per baseline and finalizes the run, which answers the summary (docs/EVALS.md has its math).
 */
// A pattern, not .trim(): the OpenAPI document can state "not blank", so a fuzzer's schema-valid value is valid.
const version = z.string().max(200).regex(/\S/, 'must not be blank');
const episodeRef = z.string().max(100).regex(/\S/, 'must not be empty');

/** A metrics object: JSON values only (NaN and Infinity are not JSON; a non-object is refused). */
export const Metrics = z.record(z.string(), z.unknown());

export const CreateEvalRunRequest = z
  .object({
    candidate_policy_version: version,
    baseline_episode_ids: z.array(episodeRef).min(1, 'needs at least one baseline episode id').max(1000),
    baseline_policy_version: version.nullish(),
    // The official runner names each candidate episode `<run name> · <baseline id[:8]>`, and an episode name
    // is at most 200 characters: a longer run name would fail every replay, so it is refused here, up front.
    name: z
      .string()
      .max(189, 'at most 189 characters (candidate episodes are named "<name> · <8 chars>", ≤ 200)')
      .nullish(),
    metadata: Metadata.nullish(),
  })
  .meta({ id: 'CreateEvalRunRequest' });
export type CreateEvalRunRequest = z.infer<typeof CreateEvalRunRequest>;

export const EvalRunStatus = z.enum(['pending', 'running', 'completed', 'failed', 'cancelled']);
export type EvalRunStatus = z.infer<typeof EvalRunStatus>;

export const CreateEvalRunResponse = z
  .object({
    eval_run_id: z.string(),
    status: EvalRunStatus,
    episode_count: z.number().int(),
    portal_url: z.string(),
  })
  .meta({ id: 'CreateEvalRunResponse' });

export const EvalResultRequest = z
  .object({
    baseline_episode_id: episodeRef,
    status: z.enum(['complete', 'failed']),
    metrics: Metrics.default({}),
    candidate_episode_id: z.guid().nullish(),
    error: z.string().max(10_000).nullish(),
  })
  .meta({ id: 'EvalResultRequest' });
export type EvalResultRequest = z.infer<typeof EvalResultRequest>;

export const EvalResultResponse = z
  .object({
    eval_result_id: z.string(),
    run_status: EvalRunStatus,
    episodes_completed: z.number().int(),
    episodes_failed: z.number().int(),
  })
  .meta({ id: 'EvalResultResponse' });
export type EvalResultResponse = z.infer<typeof EvalResultResponse>;

export const FinalizeEvalRunRequest = z
  .object({
    status: z.enum(['completed', 'failed', 'cancelled']).default('completed'),
    metadata: Metadata.nullish(),
  })
  .meta({ id: 'FinalizeEvalRunRequest' });
export type FinalizeEvalRunRequest = z.infer<typeof FinalizeEvalRunRequest>;

const MetricSummary = z.object({
  baseline: z.number(),
  candidate: z.number(),
  delta: z.number(),
  delta_is_better: z.boolean().nullable(),
});

export const EvalSummaryBody = z
  .object({
    success_rate: MetricSummary.optional(),
    reward_mean: MetricSummary.optional(),
    collision_rate: MetricSummary.optional(),
    time_to_goal_s: MetricSummary.optional(),
    ood_action_share: MetricSummary.optional(),
    recommend: z.enum(['ship', 'hold']),
    better_count: z.number().int(),
    metric_total: z.number().int(),
    results_counted: z.number().int(),
  })
  .meta({ id: 'EvalSummary' });

export const FinalizeEvalRunResponse = z
  .object({ eval_run_id: z.string(), status: EvalRunStatus, summary: EvalSummaryBody })
  .meta({ id: 'FinalizeEvalRunResponse' });
export type FinalizeEvalRunResponse = z.infer<typeof FinalizeEvalRunResponse>;

const EvalRunParams = z.object({ eval_run_id: z.guid() });
const runId = { eval_run_id: '$response.body#/eval_run_id' };

export const createEvalRun = defineRoute({
  operationId: 'createEvalRun',
  method: 'POST',
  path: '/api/ingest/eval-run',
  auth: 'apiKey',
  summary: 'Open an eval run over baseline episodes of the project (one pending result each)',
  description:
    'Safe to repeat after a 429 (refused before anything is written); an Idempotency-Key makes any repeat return the first answer.',
  body: CreateEvalRunRequest,
  responses: {
    201: {
      description: 'Created',
      schema: CreateEvalRunResponse,
      // Where the new run's id leads (clients and the fuzzer's stateful phase follow these).
      links: {
        recordEvalResult: { operationId: 'recordEvalResult', parameters: runId },
        finalizeEvalRun: { operationId: 'finalizeEvalRun', parameters: runId },
      },
    },
  },
  errors: [404, 409],
});

export const recordEvalResult = defineRoute({
  operationId: 'recordEvalResult',
  method: 'POST',
  path: '/api/ingest/eval-run/{eval_run_id}/result',
  auth: 'apiKey',
  summary: "Record (upsert) one baseline's result of an open eval run",
  params: EvalRunParams,
  body: EvalResultRequest,
  responses: { 200: { description: 'Recorded', schema: EvalResultResponse } },
  errors: [404, 409],
});

export const finalizeEvalRun = defineRoute({
  operationId: 'finalizeEvalRun',
  method: 'POST',
  path: '/api/ingest/eval-run/{eval_run_id}/finalize',
  auth: 'apiKey',
  summary: 'Close an eval run and compute its summary (a repeat answers the same; another status is a 409)',
  params: EvalRunParams,
  body: FinalizeEvalRunRequest,
  responses: { 200: { description: 'Finalized', schema: FinalizeEvalRunResponse } },
  errors: [404, 409],
});
