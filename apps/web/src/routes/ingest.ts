import { CreateEpisodeRequest, FinalizeEpisodeRequest } from '@robotrace/contracts';
import { createEpisode, finalizeEpisode } from '@robotrace/core';
import { parseWith, readJson } from '../http/body.js';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { apiScope } from '../scope.js';
import type { Services } from '../services.js';

/** The ingest API the SDKs speak (WIRE_CONTRACT.md): create → signed PUTs → finalize. */
export function registerIngest(router: Router, s: Services): void {
  const limit = s.env.ROBOTRACE_MAX_BODY_BYTES;

  router.on('POST', '/api/ingest/episode', async (ctx) => {
    const scope = await apiScope(ctx, s);
    const body = parseWith(CreateEpisodeRequest, await readJson(ctx.req, limit));
    const created = await createEpisode(s.core, scope, body, ctx);
    for (const warning of created.warnings)
      s.log.info('episode created with a warning', { warning, request_id: ctx.requestId });
    sendJson(ctx.res, 201, created);
  });

  router.on('POST', '/api/ingest/episode/:id/finalize', async (ctx) => {
    const scope = await apiScope(ctx, s);
    const body = parseWith(FinalizeEpisodeRequest, await readJson(ctx.req, limit));
    sendJson(ctx.res, 200, await finalizeEpisode(s.core, scope, ctx.params.id ?? '', body, ctx));
  });
}
