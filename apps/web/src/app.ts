import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, type ProjectScope, UnavailableError } from '@robotrace/core';
import { toNodeHandler } from 'better-auth/node';
import { CLIENT_IP_HEADER } from './auth.js';
import { registerApiRoutes } from './http/api-route.js';
import { baseUrlOf, clientIpOf, type HttpContext, requestIdOf } from './http/context.js';
import { sendError } from './http/respond.js';
import { Router } from './http/router.js';
import { redactUrl } from './log.js';
import { apiRouteHandlers } from './routes/index.js';
import { apiScope } from './scope.js';
import type { Services } from './services.js';

/** Headers every response carries (portal pages add their CSP). */
const BASE_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'x-frame-options': 'DENY',
};

/** Errors that mean "the database is not reachable right now": answer 503 quickly, never hang. */
function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: unknown } | undefined;
  if (!e) return false;
  if (e.cause && isUnavailable(e.cause)) return true;
  const code = e.code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300'].includes(code) ||
    code.startsWith('08') ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      e.message ?? '',
    )
  );
}

export { API_DEADLINE_MS } from './http/deadline.js';

export interface AppExtensions {
  /** Extra routes (the portal) registered after the API. */
  register?: (router: Router) => void;
  /** Lets a signed-in portal session (not only a Bearer key) call the routes that allow it (artifacts). */
  artifactScope?: (ctx: HttpContext) => Promise<ProjectScope>;
}

/** The request handler of the app; `routes` lists what it serves besides Better Auth's /api/auth/*. */
export type AppHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<void>) & {
  routes: readonly { method: string; path: string }[];
};

export function createApp(s: Services, ext: AppExtensions = {}): AppHandler {
  const router = new Router();
  registerApiRoutes(router, apiRouteHandlers(s), {
    auth: { apiKey: (ctx) => apiScope(ctx, s), session: ext.artifactScope },
    maxBodyBytes: s.env.ROBOTRACE_MAX_BODY_BYTES,
  });
  ext.register?.(router);
  const authHandler = toNodeHandler(s.auth);
  // Load shedding: past this many requests in flight, answer 503 immediately instead of queueing timeouts.
  let inflight = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = requestIdOf(req);
    for (const [k, v] of Object.entries(BASE_HEADERS)) res.setHeader(k, v);
    res.setHeader('x-request-id', requestId);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://internal');
    } catch {
      url = new URL('http://internal/');
    }
    const ctx: HttpContext = {
      req,
      res,
      url,
      requestId,
      baseUrl: baseUrlOf(req, {
        publicUrl: s.env.ROBOTRACE_PUBLIC_URL,
        trustProxy: s.env.ROBOTRACE_TRUST_PROXY,
        fallbackHost: `localhost:${s.env.PORT}`,
      }),
      params: {},
    };
    if (inflight >= s.env.ROBOTRACE_MAX_INFLIGHT) {
      sendError(ctx, new UnavailableError('The server is at capacity; retry shortly', 1));
      return;
    }
    inflight++;
    res.once('close', () => inflight--);
    // Better Auth keys its sign-in limit on this header; a client-sent value is always replaced.
    req.headers[CLIENT_IP_HEADER] = clientIpOf(req, s.env.ROBOTRACE_TRUST_PROXY);
    try {
      if (url.pathname.startsWith('/api/auth/')) {
        await authHandler(req, res);
        return;
      }
      const match = router.match(req.method ?? 'GET', url.pathname);
      if (match === null) throw new AppError(404, 'not_found', `No route for ${req.method} ${url.pathname}`);
      if ('allowed' in match)
        throw new AppError(405, 'method_not_allowed', `Method ${req.method} is not allowed here`, undefined, {
          allow: match.allowed.join(', '),
        });
      ctx.params = match.params;
      await match.handler(ctx);
    } catch (err) {
      if (err instanceof AppError) {
        if (err.status >= 500)
          s.log.warn(err.message, { request_id: requestId, path: redactUrl(req.url ?? '') });
        sendError(ctx, err);
      } else if (isUnavailable(err)) {
        s.log.warn('database unavailable', { request_id: requestId, error: (err as Error).message });
        sendError(ctx, new UnavailableError('The database is not reachable right now; retry shortly', 2));
      } else {
        const cause = (err as Error)?.cause;
        s.log.error('unhandled error', {
          request_id: requestId,
          path: redactUrl(req.url ?? ''),
          error: (err as Error)?.stack ?? String(err),
          // The database's own message (drizzle wraps it as the cause of "Failed query: …").
          ...(cause ? { cause: String((cause as Error).message ?? cause) } : {}),
        });
        sendError(ctx, new AppError(500, 'internal_error', `Internal error (request ${requestId})`));
      }
    }
  };
  return Object.assign(handle, { routes: router.list() });
}
