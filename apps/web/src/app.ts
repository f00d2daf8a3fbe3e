import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, UnavailableError } from '@robotrace/core';
import { toNodeHandler } from 'better-auth/node';
import { CLIENT_IP_HEADER } from './auth.js';
import { baseUrlOf, clientIpOf, type HttpContext, requestIdOf } from './http/context.js';
import { sendError } from './http/respond.js';
import { Router } from './http/router.js';
import { redactUrl } from './log.js';
import { type ArtifactScope, registerEpisodes } from './routes/episodes.js';
import { registerIngest } from './routes/ingest.js';
import { registerMeta } from './routes/meta.js';
import { registerLocalStorage } from './routes/storage.js';
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

/**
 * API calls answer within this bound even when the database stops answering without closing its connections
 * (a hung host, a network partition): statement_timeout never fires then, and the pool's connect timeout only
 * covers new connections. Past it the caller gets a 503 and may retry (creates and finalizes are idempotent
 * with a key); the abandoned work finishes or fails on its own once the database answers again. Signed
 * uploads and downloads stream for as long as they need and are not bounded here.
 */
export const API_DEADLINE_MS = 20_000;

function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // The work may still settle (and fail writing to a closed response): never an unhandled rejection.
      work.catch(() => {});
      reject(new UnavailableError('The database did not answer in time; retry shortly', 2));
    }, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export interface AppExtensions {
  /** Extra routes (the portal) registered after the API. */
  register?: (router: Router) => void;
  artifactScope?: ArtifactScope;
}

export function createApp(s: Services, ext: AppExtensions = {}) {
  const router = new Router();
  registerMeta(router, s);
  registerIngest(router, s);
  registerEpisodes(router, s, ext.artifactScope);
  if (s.localStore) registerLocalStorage(router, s, s.localStore);
  ext.register?.(router);
  const authHandler = toNodeHandler(s.auth);
  // Load shedding: past this many requests in flight, answer 503 immediately instead of queueing timeouts.
  let inflight = 0;

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
        throw new AppError(405, 'validation_error', `Method ${req.method} is not allowed here`, undefined, {
          allow: match.allowed.join(', '),
        });
      ctx.params = match.params;
      const bounded = url.pathname.startsWith('/api/') && !url.pathname.startsWith('/api/storage/');
      await (bounded
        ? withDeadline(Promise.resolve(match.handler(ctx)), API_DEADLINE_MS)
        : match.handler(ctx));
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
}
