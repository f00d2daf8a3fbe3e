import { getEpisodeTraceRoute, getTraceRoute, type TraceSpan } from '@robotrace/contracts';
import { episodeTrace, traceOverview } from '@robotrace/core';
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
 * The spans of a cached lookup are the same array on every hit: their JSON (megabytes for a big trace) is
 * written once and reused, only the small per-request fields around it are serialised again (bench/trace).
 */
const spansJson = new WeakMap<readonly TraceSpan[], Buffer>();

function sendTrace(ctx: HttpContext, body: { spans: TraceSpan[] }): undefined {
  let spans = spansJson.get(body.spans);
  if (!spans) {
    spans = Buffer.from(JSON.stringify(body.spans));
    if (body.spans.length > 0) spansJson.set(body.spans, spans);
  }
  const { spans: _spans, ...rest } = body;
  const head = JSON.stringify(rest);
  const payload = Buffer.concat([
    Buffer.from(`${head.slice(0, -1)}${head === '{}' ? '' : ','}"spans":`),
    spans,
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
