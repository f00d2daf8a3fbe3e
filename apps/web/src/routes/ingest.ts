import { apiRoutes } from '@robotrace/contracts';
import { type IngestResult, ingestBatcher, refreshUploadUrl } from '@robotrace/core';
import { type BoundRoute, bindRoute, type Reply } from '../http/api-route.js';
import type { HttpContext } from '../http/context.js';
import { API_DEADLINE_MS } from '../http/deadline.js';
import type { Services } from '../services.js';

/** The Idempotency-Key of a create/finalize (ours always send one); without it the work simply runs once. */
function idempotencyOf(ctx: HttpContext, rawBody: string): { key: string; rawBody: string } | undefined {
  const key = ctx.req.headers['idempotency-key'];
  return typeof key === 'string' ? { key, rawBody } : undefined;
}

function reply(r: IngestResult, ctx: HttpContext, s: Services): Reply {
  const warnings = r.replayed ? [] : ((r.body as { warnings?: string[] }).warnings ?? []);
  for (const warning of warnings)
    s.log.info('episode created with a warning', { warning, request_id: ctx.requestId });
  return { status: r.status, body: r.body, headers: r.replayed ? { 'idempotent-replayed': 'true' } : {} };
}

/**
 * The ingest API the SDKs speak (WIRE_CONTRACT.md): create → signed PUTs → finalize. Creates and finalizes go
 * through group commit (core's ingestBatcher): concurrent ones share one statement or transaction, each is
 * answered after its commit. A request still queued at the API deadline is dropped, not written: its caller
 * already got its 503.
 */
export function ingestRoutes(s: Services): BoundRoute[] {
  const batch = ingestBatcher(s.core, {
    windowMs: s.env.ROBOTRACE_GROUP_COMMIT_WINDOW_MS,
    maxBatch: s.env.ROBOTRACE_GROUP_COMMIT_MAX_BATCH,
    // PGlite has one connection; on PostgreSQL half the pool writes batches, the rest serves reads and auth.
    concurrency: s.dbh.kind === 'pglite' ? 1 : Math.max(1, Math.floor(s.env.ROBOTRACE_DB_POOL_MAX / 2)),
    maxWaitMs: API_DEADLINE_MS,
    maxQueue: s.env.ROBOTRACE_MAX_INFLIGHT,
  });
  return [
    bindRoute(apiRoutes.createEpisode, async ({ ctx, scope, body, rawBody }) =>
      reply(await batch.create(scope, body, ctx, idempotencyOf(ctx, rawBody)), ctx, s),
    ),

    bindRoute(apiRoutes.finalizeEpisode, async ({ ctx, scope, params, body, rawBody }) =>
      reply(await batch.finalize(scope, params.episode_id, body, ctx, idempotencyOf(ctx, rawBody)), ctx, s),
    ),

    // Ours: a fresh signed URL for one slot of a recording episode (an SDK whose URL expired asks once and retries).
    bindRoute(apiRoutes.refreshUploadUrl, async ({ ctx, scope, params, body }) => ({
      status: 200,
      body: await refreshUploadUrl(s.core, scope, params.episode_id, body.kind, ctx),
    })),
  ];
}
