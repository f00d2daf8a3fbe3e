import { getEpisodeTraceRoute, getTraceRoute } from '@robotrace/contracts';
import { episodeTrace, traceOverview } from '@robotrace/core';
import { type BoundRoute, bindRoute } from '../http/api-route.js';
import type { Services } from '../services.js';

/**
 * The span lane: an episode's trace and a whole trace, read from the configured trace backend (API key or portal
 * session, scoped to the caller's project). The backend's faults are a status in a 200, never a 5xx.
 */
export function traceRoutes(s: Services): BoundRoute[] {
  return [
    bindRoute(getEpisodeTraceRoute, async ({ scope, params, query }) => ({
      status: 200,
      body: await episodeTrace(s.core, scope, params.episode_id, query.offset_ms),
    })),
    bindRoute(getTraceRoute, async ({ scope, params }) => ({
      status: 200,
      body: await traceOverview(s.core, scope, params.trace_id),
    })),
  ];
}
