import { apiRoutes, buildOpenApiDocument } from '@robotrace/contracts';
import { UnavailableError } from '@robotrace/core';
import { type BoundRoute, bindRoute } from '../http/api-route.js';
import type { Services } from '../services.js';

export function metaRoutes(s: Services): BoundRoute[] {
  let openapi: Record<string, unknown> | undefined;
  return [
    bindRoute(apiRoutes.health, async () => {
      try {
        await Promise.all([s.dbh.ping(), s.core.store.ping()]);
      } catch (err) {
        s.log.warn('health check failed', { error: (err as Error).message });
        throw new UnavailableError('Database or storage is not answering');
      }
      return { status: 200, body: { status: 'ok' } };
    }),

    bindRoute(apiRoutes.openApi, () => {
      openapi ??= buildOpenApiDocument();
      return { status: 200, body: openapi, headers: { 'cache-control': 'public, max-age=300' } };
    }),
  ];
}
