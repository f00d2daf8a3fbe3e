import { getEpisodeTraceRoute, getTraceRoute } from '@robotrace/contracts';
import { episodeTrace, type SpanList, traceOverview } from '@robotrace/core';
import { type BoundRoute, bindRoute } from '../http/api-route.js';
import type { HttpContext } from '../http/context.js';
import type { Services } from '../services.js';

/**
 * The span lane: an episode's trace and a whole trace, read from the configured trace backend (API key or portal
 * session, scoped to the caller's project). The backend's faults are a status in a 200, never a 5xx.
 */
export function traceRoutes(s: Services): BoundRoute[] {
  return [
    bindRoute(getEpisodeTraceRoute, async ({ ctx, scope, params, query }) =>
      sendTrace(ctx, await episodeTrace(s.core, scope, params.episode_id, query.offset_ms)),
    ),
    bindRoute(getTraceRoute, async ({ ctx, scope, params }) =>
      sendTrace(ctx, await traceOverview(s.core, scope, params.trace_id)),
    ),
  ];
}

/**
 * The spans' JSON (megabytes for a big trace) comes written: transcoded from the backend's answer once per fetch
 * and the same bytes on every cached hit. Only the small fields around it are serialised per request.
 */
function sendTrace(ctx: HttpContext, body: { spans: SpanList }): undefined {
  const { spans, ...rest } = body;
  const head = JSON.stringify(rest);
  const payload = Buffer.concat([
    Buffer.from(`${head.slice(0, -1)}${head === '{}' ? '' : ','}"spans":`),
    spans.json,
    Buffer.from('}'),
  ]);
  ctx.res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': payload.length,
    'cache-control': 'no-store',
  });
  ctx.res.end(payload);
  return undefined;
}
