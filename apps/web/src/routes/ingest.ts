import { CreateEpisodeRequest, FinalizeEpisodeRequest, UploadUrlRequest } from '@robotrace/contracts';
import {
  type CoreDeps,
  createEpisode,
  finalizeEpisode,
  idempotent,
  type ProjectScope,
  refreshUploadUrl,
} from '@robotrace/core';
import { parseJson, parseWith, readText } from '../http/body.js';
import type { HttpContext } from '../http/context.js';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { apiScope } from '../scope.js';
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
): Promise<void> {
  const key = ctx.req.headers['idempotency-key'];
  if (typeof key !== 'string') {
    const r = await work(s.core);
    sendJson(ctx.res, r.status, r.body);
    return;
  }
  const r = await idempotent(s.core, scope, { key, operation, rawBody }, work);
  sendJson(ctx.res, r.status, r.body, r.replayed ? { 'idempotent-replayed': 'true' } : {});
}

/** The ingest API the SDKs speak (WIRE_CONTRACT.md): create → signed PUTs → finalize. */
export function registerIngest(router: Router, s: Services): void {
  const limit = s.env.ROBOTRACE_MAX_BODY_BYTES;

  router.on('POST', '/api/ingest/episode', async (ctx) => {
    const scope = await apiScope(ctx, s);
    const raw = await readText(ctx.req, limit);
    const body = parseWith(CreateEpisodeRequest, parseJson(raw));
    await once(ctx, s, scope, 'create', raw, async (deps) => {
      const created = await createEpisode(deps, scope, body, ctx);
      for (const warning of created.warnings)
        s.log.info('episode created with a warning', { warning, request_id: ctx.requestId });
      return { status: 201, body: created };
    });
  });

  router.on('POST', '/api/ingest/episode/:id/finalize', async (ctx) => {
    const scope = await apiScope(ctx, s);
    const raw = await readText(ctx.req, limit);
    const body = parseWith(FinalizeEpisodeRequest, parseJson(raw));
    const id = ctx.params.id ?? '';
    await once(ctx, s, scope, `finalize:${id}`, raw, async (deps) => ({
      status: 200,
      body: await finalizeEpisode(deps, scope, id, body, ctx),
    }));
  });

  // Ours: a fresh signed URL for one slot of a recording episode (an SDK whose URL expired asks once and retries).
  router.on('POST', '/api/ingest/episode/:id/upload-url', async (ctx) => {
    const scope = await apiScope(ctx, s);
    const body = parseWith(UploadUrlRequest, parseJson(await readText(ctx.req, limit)));
    sendJson(ctx.res, 200, await refreshUploadUrl(s.core, scope, ctx.params.id ?? '', body.kind, ctx));
  });
}
