import { createEvalRun, finalizeEvalRun, recordEvalResult } from '@robotrace/contracts';
import * as core from '@robotrace/core';
import { type BoundRoute, bindRoute, type Reply } from '../http/api-route.js';
import type { Services } from '../services.js';

/**
 * Eval runs (OFFICIAL_PILLARS.md §1). The create honours an Idempotency-Key like the episode create does; without
 * one it is still safe to retry after a 429 (refused before the handler runs, so nothing was written).
 */
export function evalRoutes(s: Services): BoundRoute[] {
  return [
    bindRoute(createEvalRun, async ({ ctx, scope, body, rawBody }): Promise<Reply> => {
      const work = async (deps: core.CoreDeps) => ({
        status: 201,
        body: await core.createEvalRun(deps, scope, body, ctx),
      });
      const key = ctx.req.headers['idempotency-key'];
      if (typeof key !== 'string') return work(s.core);
      const r = await core.idempotent(s.core, scope, { key, operation: 'eval-run', rawBody }, work);
      return {
        status: r.status,
        body: r.body,
        headers: r.replayed ? { 'idempotent-replayed': 'true' } : ({} as Record<string, string>),
      };
    }),
    bindRoute(recordEvalResult, async ({ scope, params, body }) => ({
      status: 200,
      body: await core.recordEvalResult(s.core, scope, params.eval_run_id, body),
    })),
    bindRoute(finalizeEvalRun, async ({ scope, params, body }) => ({
      status: 200,
      body: await core.finalizeEvalRun(s.core, scope, params.eval_run_id, body),
    })),
  ];
}
