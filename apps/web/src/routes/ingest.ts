import { apiRoutes } from '@robotrace/contracts';
import {
  type CoreDeps,
  createEpisode,
  finalizeEpisode,
  idempotent,
  type ProjectScope,
  refreshUploadUrl,
} from '@robotrace/core';
import { type BoundRoute, bindRoute, type Reply } from '../http/api-route.js';
import type { HttpContext } from '../http/context.js';
import type { Services } from '../services.js';

/**
 * Runs a create/finalize once per Idempotency-Key (when the client sends one; ours always do), replaying the
 * stored response on a retry. Without the header the work simply runs.
 */
async function once(
  ctx: HttpContext,
  s: Services,
  scope: ProjectScope,
  operation: string,
  rawBody: string,
  work: (deps: CoreDeps) => Promise<{ status: number; body: unknown }>,
): Promise<Reply> {
  const key = ctx.req.headers['idempotency-key'];
  if (typeof key !== 'string') return work(s.core);
  const r = await idempotent(s.core, scope, { key, operation, rawBody }, work);
  return { status: r.status, body: r.body, headers: r.replayed ? { 'idempotent-replayed': 'true' } : {} };
}

/** The ingest API the SDKs speak (WIRE_CONTRACT.md): create → signed PUTs → finalize. */
export function ingestRoutes(s: Services): BoundRoute[] {
  return [
    bindRoute(apiRoutes.createEpisode, ({ ctx, scope, body, rawBody }) =>
      once(ctx, s, scope, 'create', rawBody, async (deps) => {
        const created = await createEpisode(deps, scope, body, ctx);
        for (const warning of created.warnings)
          s.log.info('episode created with a warning', { warning, request_id: ctx.requestId });
        return { status: 201, body: created };
      }),
    ),

    bindRoute(apiRoutes.finalizeEpisode, ({ ctx, scope, params, body, rawBody }) =>
      once(ctx, s, scope, `finalize:${params.episode_id}`, rawBody, async (deps) => ({
        status: 200,
        body: await finalizeEpisode(deps, scope, params.episode_id, body, ctx),
      })),
    ),

    // Ours: a fresh signed URL for one slot of a recording episode (an SDK whose URL expired asks once and retries).
    bindRoute(apiRoutes.refreshUploadUrl, async ({ ctx, scope, params, body }) => ({
      status: 200,
      body: await refreshUploadUrl(s.core, scope, params.episode_id, body.kind, ctx),
    })),
  ];
}
