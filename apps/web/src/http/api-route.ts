import type { AuthKind, RouteDef } from '@robotrace/contracts';
import { NotFoundError, type ProjectScope } from '@robotrace/core';
import type { z } from 'zod';
import { parseJson, parseWith, readText } from './body.js';
import type { HttpContext } from './context.js';
import { API_DEADLINE_MS, withDeadline } from './deadline.js';
import { requireJsonBody } from './media-type.js';
import { sendJson } from './respond.js';
import type { Router } from './router.js';

/** What a key-authenticated route knows of its caller; signed-URL and open routes know nobody. */
export type ScopeOf<A extends AuthKind> = A extends 'apiKey' | 'apiKeyOrSession' ? ProjectScope : undefined;

/** A request as its route definition read it: params, query and body already validated. */
export interface ApiRequest<
  P extends z.ZodObject,
  Q extends z.ZodObject,
  B extends z.ZodType,
  A extends AuthKind,
> {
  ctx: HttpContext;
  scope: ScopeOf<A>;
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  /** The JSON body exactly as sent ('' without one): idempotency hashes it. */
  rawBody: string;
}

/** A JSON answer; `undefined` when the handler wrote the response itself (a redirect, a stream). */
export type Reply = { status: number; body: unknown; headers?: Record<string, string> } | undefined;

type AnyRequest = ApiRequest<z.ZodObject, z.ZodObject, z.ZodType, AuthKind>;

export interface BoundRoute {
  def: RouteDef;
  handle: (request: AnyRequest) => Promise<Reply> | Reply;
}

/** A handler bound to its definition: thin (the request is parsed, the handler calls core and replies). */
export function bindRoute<
  P extends z.ZodObject,
  Q extends z.ZodObject,
  B extends z.ZodType,
  A extends AuthKind,
>(
  def: RouteDef<P, Q, B, A>,
  handle: (request: ApiRequest<P, Q, B, A>) => Promise<Reply> | Reply,
): BoundRoute {
  return { def: def as unknown as RouteDef, handle: handle as unknown as BoundRoute['handle'] };
}

/** How callers are known: by API key (401 and rate limits), and by the portal session where a route allows it. */
export interface RouteAuth {
  apiKey: (ctx: HttpContext) => Promise<ProjectScope>;
  session?: ((ctx: HttpContext) => Promise<ProjectScope>) | undefined;
}

export interface BindOptions {
  auth: RouteAuth;
  /** The largest JSON body a route reads (413 beyond it). */
  maxBodyBytes: number;
}

async function scopeOf(def: RouteDef, ctx: HttpContext, auth: RouteAuth): Promise<ProjectScope | undefined> {
  if (def.auth === 'apiKey') return auth.apiKey(ctx);
  if (def.auth === 'apiKeyOrSession')
    // Either key header (Bearer or X-RoboTrace-Key) means the caller chose the key: it is checked, never the cookie.
    return ctx.req.headers.authorization || ctx.req.headers['x-robotrace-key'] || !auth.session
      ? auth.apiKey(ctx)
      : auth.session(ctx);
  return undefined;
}

/**
 * Runs one route in its order: caller (401, 429) → path (404 for a value that names nothing) → query (400) →
 * body (415, 413, 400) → handler. Every API call but the signed storage URLs (which stream as long as
 * they need) answers within API_DEADLINE_MS.
 */
async function run(route: BoundRoute, ctx: HttpContext, options: BindOptions): Promise<void> {
  const { def } = route;
  const scope = await scopeOf(def, ctx, options.auth);
  // Answered already (the deadline's 503 while the key lookup waited on a stalled database): stop here. Node
  // discards an unread body once the response ends, so reading on would see an empty body and store `{}`
  // under the caller's Idempotency-Key, turning its retry into a 409.
  if (ctx.res.headersSent) return;
  const params = def.params ? def.params.safeParse(ctx.params) : { success: true as const, data: {} };
  if (!params.success) {
    const issue = params.error.issues[0];
    throw new NotFoundError(`Not found: ${issue?.path.join('.') ?? 'path'}: ${issue?.message ?? 'invalid'}`);
  }
  const query = def.query
    ? parseWith(def.query, Object.fromEntries(ctx.url.searchParams), 'query')
    : ({} as Record<string, never>);
  let rawBody = '';
  let body: unknown;
  if (def.body) {
    requireJsonBody(ctx.req);
    rawBody = await readText(ctx.req, options.maxBodyBytes);
    body = parseWith(def.body, parseJson(rawBody));
  }
  const reply = await route.handle({ ctx, scope, params: params.data, query, body, rawBody });
  if (reply) sendJson(ctx.res, reply.status, reply.body, reply.headers);
}

/** Registers the API routes; refuses to start when a route is bound twice. */
export function registerApiRoutes(router: Router, routes: readonly BoundRoute[], options: BindOptions): void {
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.def.operationId)) throw new Error(`route ${route.def.operationId} is bound twice`);
    seen.add(route.def.operationId);
    const bounded = route.def.auth !== 'signedUrl';
    router.on(route.def.method, route.def.path, (ctx) =>
      bounded ? withDeadline(run(route, ctx, options), API_DEADLINE_MS) : run(route, ctx, options),
    );
  }
}
