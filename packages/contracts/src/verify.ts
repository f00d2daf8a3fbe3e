import { z } from 'zod';
import { Metrics } from './evals.js';
import { defineRoute } from './route.js';

/**
 * Release verification (OFFICIAL_PILLARS.md §2): baseline episodes promoted into a gate with a severity; results
 * per candidate policy version; a check that answers 200 when the release may ship and 422 when it is blocked.
 */
export const Severity = z.enum(['critical', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;
export const VerifyStatus = z.enum(['pass', 'fail', 'error']);
export type VerifyStatus = z.infer<typeof VerifyStatus>;
// Patterns, not .trim(): the OpenAPI document states "not blank" (core trims).
const version = z.string().max(200).regex(/\S/, 'must not be blank');
const id = z.string().max(100).regex(/\S/, 'must not be empty');

export const PromoteRequest = z
  .object({
    baseline_episode_id: id,
    severity: Severity.default('warning'),
    name: z.string().max(200).nullish(),
    description: z.string().max(5000).nullish(),
  })
  .meta({ id: 'PromoteRequest' });
export type PromoteRequest = z.infer<typeof PromoteRequest>;

export const PromoteResponse = z
  .object({ scenario_id: z.string(), promoted: z.boolean() })
  .meta({ id: 'PromoteResponse' });

export const VerifyResultRequest = z
  .object({
    scenario_id: id,
    candidate_policy_version: version,
    metrics: Metrics.default({}),
    status: VerifyStatus.nullish(),
    candidate_episode_id: z.guid().nullish(),
    eval_run_id: z.guid().nullish(),
    error: z.string().max(10_000).nullish(),
  })
  .meta({ id: 'VerifyResultRequest' });
export type VerifyResultRequest = z.infer<typeof VerifyResultRequest>;

export const VerifyResultResponse = z
  .object({ verify_result_id: z.string(), scenario_id: z.string(), status: VerifyStatus })
  .meta({ id: 'VerifyResultResponse' });

export const VerifyCheckRequest = z
  .object({ candidate_policy_version: version })
  .meta({ id: 'VerifyCheckRequest' });

export const GateBody = z
  .object({
    passed: z.boolean(),
    candidate_policy_version: z.string(),
    critical_total: z.number().int(),
    critical_passed: z.number().int(),
    critical_failed: z.number().int(),
    critical_pending: z.number().int(),
    scenarios: z.array(
      z.object({
        scenario_id: z.string(),
        baseline_episode_id: z.string(),
        severity: Severity,
        name: z.string().nullable(),
        latest_status: z.enum(['pass', 'fail', 'error', 'pending']),
      }),
    ),
    blockers: z.array(z.string()),
  })
  .meta({ id: 'VerifyGate' });
export type GateBody = z.infer<typeof GateBody>;

export const promoteScenario = defineRoute({
  operationId: 'promoteScenario',
  method: 'POST',
  path: '/api/verify/promote',
  auth: 'apiKey',
  summary: 'Promote a baseline episode into the release gate (again: the same scenario, promoted false)',
  body: PromoteRequest,
  responses: { 200: { description: 'The scenario', schema: PromoteResponse } },
  errors: [404],
});

export const recordVerifyResult = defineRoute({
  operationId: 'recordVerifyResult',
  method: 'POST',
  path: '/api/verify/result',
  auth: 'apiKey',
  summary:
    "Record a scenario's result for a candidate version (status derived from success_candidate if absent)",
  body: VerifyResultRequest,
  responses: { 200: { description: 'Recorded', schema: VerifyResultResponse } },
  errors: [404],
});

export const checkGate = defineRoute({
  operationId: 'checkGate',
  method: 'POST',
  path: '/api/verify/check',
  auth: 'apiKey',
  summary: 'The release gate for a candidate version: 200 when every critical scenario passes, else 422',
  body: VerifyCheckRequest,
  responses: {
    200: { description: 'Passed', schema: GateBody },
    422: { description: 'Blocked (same body)', schema: GateBody },
  },
  errors: [],
});
