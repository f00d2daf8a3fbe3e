import { apiRoutes } from '@robotrace/contracts';
import { artifactDownloadUrl, getEpisode, listEpisodes } from '@robotrace/core';
import { type BoundRoute, bindRoute } from '../http/api-route.js';
import { redirect } from '../http/respond.js';
import type { Services } from '../services.js';

/** The read API: episodes by id, a filtered page of them, and their artifacts (by key or portal session). */
export function episodeRoutes(s: Services): BoundRoute[] {
  return [
    bindRoute(apiRoutes.listEpisodes, async ({ ctx, scope, query }) => ({
      status: 200,
      body: await listEpisodes(s.core, scope, query, ctx),
    })),

    bindRoute(apiRoutes.getEpisode, async ({ ctx, scope, params }) => ({
      status: 200,
      body: await getEpisode(s.core, scope, params.episode_id, ctx),
    })),

    bindRoute(apiRoutes.getArtifact, async ({ ctx, scope, params }) => {
      redirect(ctx.res, await artifactDownloadUrl(s.core, scope, params.episode_id, params.kind, ctx));
      return undefined;
    }),
  ];
}
