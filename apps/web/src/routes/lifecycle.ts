import { once } from 'node:events';
import {
  deleteEpisodeRoute,
  type ExportedEpisode,
  exportEpisodesRoute,
  getRetentionRoute,
  setRetentionRoute,
  storageUsageRoute,
} from '@robotrace/contracts';
import {
  deleteEpisodeKeyed,
  exportEpisodes,
  getRetention,
  setRetention,
  storageUsage,
} from '@robotrace/core';
import { type BoundRoute, bindRoute } from '../http/api-route.js';
import type { HttpContext } from '../http/context.js';
import type { Services } from '../services.js';

const header = (ctx: HttpContext, name: string): string | undefined => {
  const value = ctx.req.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/**
 * Streams the export as JSON Lines. The first episode is read before the head is written (inside the API
 * deadline: a stalled database is still a 503); the rest streams in the background, past the deadline,
 * honouring backpressure. A failure mid-stream can only cut the response (logged): the status was sent.
 */
async function streamExport(s: Services, ctx: HttpContext, lines: AsyncGenerator<ExportedEpisode>) {
  const first = await lines.next();
  ctx.res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
  });
  const rest = async () => {
    let next = first;
    while (!next.done) {
      if (ctx.res.destroyed) return lines.return(undefined);
      if (!ctx.res.write(`${JSON.stringify(next.value)}\n`)) await once(ctx.res, 'drain');
      next = await lines.next();
    }
    ctx.res.end();
  };
  rest().catch((err: unknown) => {
    s.log.error('export stream failed', { request_id: ctx.requestId, error: String(err) });
    ctx.res.destroy();
  });
}

/** Data lifecycle (issue 20): delete an episode, export, storage used and retention. */
export function lifecycleRoutes(s: Services): BoundRoute[] {
  return [
    bindRoute(deleteEpisodeRoute, async ({ ctx, scope, params, query }) => {
      const r = await deleteEpisodeKeyed(s.core, {
        projectId: scope.projectId,
        episodeId: params.episode_id,
        unlinkReferences: query.unlink_references === 'true',
        idempotencyKey: header(ctx, 'idempotency-key'),
      });
      // As the ingest routes say it.
      const headers: Record<string, string> = r.replayed ? { 'idempotent-replayed': 'true' } : {};
      return { status: 200, body: r.body, headers };
    }),

    bindRoute(exportEpisodesRoute, async ({ ctx, scope, query }) => {
      await streamExport(
        s,
        ctx,
        exportEpisodes(s.core, { projectId: scope.projectId, filters: query, baseUrl: ctx.baseUrl }),
      );
      return undefined;
    }),

    bindRoute(storageUsageRoute, async ({ scope }) => ({
      status: 200,
      body: await storageUsage(s.core, { projectId: scope.projectId }),
    })),

    bindRoute(getRetentionRoute, async ({ scope }) => ({
      status: 200,
      body: await getRetention(s.core, { projectId: scope.projectId }),
    })),

    bindRoute(setRetentionRoute, async ({ scope, body }) => ({
      status: 200,
      body: await setRetention(s.core, { projectId: scope.projectId, ...body }),
    })),
  ];
}
