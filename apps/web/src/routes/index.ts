import { API_ROUTES } from '@robotrace/contracts';
import type { BoundRoute } from '../http/api-route.js';
import type { Services } from '../services.js';
import { cliAuthRoutes } from './cli-auth.js';
import { episodeRoutes } from './episodes.js';
import { evalRoutes } from './evals.js';
import { ingestRoutes } from './ingest.js';
import { lifecycleRoutes } from './lifecycle.js';
import { metaRoutes } from './meta.js';
import { storageRoutes } from './storage.js';
import { traceRoutes } from './trace.js';
import { trackRoutes } from './tracks.js';
import { uploadRoutes } from './uploads.js';
import { verifyRoutes } from './verify.js';

/**
 * Every API route with its handler. A definition of the table without a handler stops the start: the
 * document would promise a route the server does not serve (only the local-disk storage routes are absent
 * when artifacts live on S3).
 */
export function apiRouteHandlers(s: Services): BoundRoute[] {
  const bound = [
    ...metaRoutes(s),
    ...ingestRoutes(s),
    ...uploadRoutes(s),
    // Before episodeRoutes: GET /api/episodes/export is not GET /api/episodes/{episode_id}.
    ...lifecycleRoutes(s),
    ...episodeRoutes(s),
    ...trackRoutes(s),
    ...traceRoutes(s),
    ...cliAuthRoutes(s),
    ...evalRoutes(s),
    ...verifyRoutes(s),
    ...(s.localStore ? storageRoutes(s, s.localStore) : []),
  ];
  const unbound = API_ROUTES.filter(
    (def) => !bound.some((b) => b.def === def) && !(def.auth === 'signedUrl' && !s.localStore),
  );
  if (unbound.length > 0)
    throw new Error(`routes without a handler: ${unbound.map((d) => d.operationId).join(', ')}`);
  return bound;
}
