import { ArtifactKind, ListEpisodesQuery } from '@robotrace/contracts';
import { artifactDownloadUrl, getEpisode, listEpisodes, NotFoundError } from '@robotrace/core';
import { parseWith } from '../http/body.js';
import type { HttpContext } from '../http/context.js';
import { redirect, sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { apiScope } from '../scope.js';
import type { Services } from '../services.js';

/** Hook for the portal: lets a signed-in session (not only a Bearer key) read artifacts. */
export type ArtifactScope = (ctx: HttpContext) => Promise<{ projectId: string }>;

export function registerEpisodes(router: Router, s: Services, artifactScope?: ArtifactScope): void {
  router.on('GET', '/api/episodes', async (ctx) => {
    const scope = await apiScope(ctx, s);
    const query = parseWith(ListEpisodesQuery, Object.fromEntries(ctx.url.searchParams), 'query');
    sendJson(ctx.res, 200, await listEpisodes(s.core, scope, query, ctx));
  });

  router.on('GET', '/api/episodes/:id', async (ctx) => {
    const scope = await apiScope(ctx, s);
    sendJson(ctx.res, 200, await getEpisode(s.core, scope, ctx.params.id ?? '', ctx));
  });

  router.on('GET', '/api/episodes/:id/artifact/:kind', async (ctx) => {
    const scope =
      ctx.req.headers.authorization || !artifactScope ? await apiScope(ctx, s) : await artifactScope(ctx);
    const kind = ArtifactKind.safeParse(ctx.params.kind);
    if (!kind.success)
      throw new NotFoundError(`Unknown artifact kind "${ctx.params.kind}" (video, sensors or actions)`);
    redirect(ctx.res, await artifactDownloadUrl(s.core, scope, ctx.params.id ?? '', kind.data, ctx));
  });
}
