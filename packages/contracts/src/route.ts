import type { z } from 'zod';

/**
 * How a route knows its caller: an API key (Bearer), an API key or the portal's session cookie, the signature
 * of a URL the API handed out, or nobody.
 */
export type AuthKind = 'apiKey' | 'apiKeyOrSession' | 'signedUrl' | 'none';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** An OpenAPI link: where a value of this response leads (followed by clients and the fuzzer's stateful phase). */
export interface RouteLink {
  operationId: string;
  parameters: Record<string, string>;
}

export interface RouteResponse {
  description: string;
  /** The JSON body; absent for a bodiless answer (a redirect) or a non-JSON one (see `contentType`). */
  schema?: z.ZodType;
  /** A non-JSON body (the bytes of a stored artifact). */
  contentType?: string;
  links?: Record<string, RouteLink>;
}

/** A raw (non-JSON) request body, streamed by the handler: the signed upload of an artifact. */
export interface RawBody {
  contentTypes: readonly string[];
  description: string;
}

/**
 * One API route, declared once: the router, request validation, the OpenAPI document and the tests' response
 * checks are all derived from it. `path` is an OpenAPI template; its last parameter may be written `{name*}`
 * when it spans slashes (a storage key).
 */
export interface RouteDef<
  P extends z.ZodObject = z.ZodObject,
  Q extends z.ZodObject = z.ZodObject,
  B extends z.ZodType = z.ZodType,
  A extends AuthKind = AuthKind,
> {
  operationId: string;
  method: HttpMethod;
  path: string;
  auth: A;
  summary: string;
  description?: string;
  /** Path parameters. A value its schema refuses names nothing: the route answers 404. */
  params?: P;
  query?: Q;
  /** The JSON request body (`Content-Type: application/json`). */
  body?: B;
  rawBody?: RawBody;
  /** The answers on success (and on purpose, e.g. a 302), by status. */
  responses: Readonly<Record<number, RouteResponse>>;
  /** The error statuses this route answers on its own; the ones its auth and inputs imply are added. */
  errors: readonly number[];
}

/** Keeps the literal types of a definition (the handler bound to it gets typed params, query, body). */
export function defineRoute<
  P extends z.ZodObject,
  Q extends z.ZodObject,
  B extends z.ZodType,
  A extends AuthKind,
>(def: RouteDef<P, Q, B, A>): RouteDef<P, Q, B, A> {
  return def;
}

/**
 * Every error status a route can answer: its own, plus what every route can say (503: the server is at
 * capacity or the database does not answer), what a key implies (401, 429) and what inputs imply (400 for a
 * refused query or body, 413 and 415 for a body).
 */
export function errorStatusesOf(def: RouteDef): number[] {
  const all = new Set<number>([...def.errors, 503]);
  if (def.auth === 'apiKey' || def.auth === 'apiKeyOrSession') for (const s of [401, 429]) all.add(s);
  if (def.query || def.body) all.add(400);
  if (def.body) for (const s of [413, 415]) all.add(s);
  return [...all].sort((a, b) => a - b);
}

/** The path as OpenAPI writes it (`{name*}` → `{name}`). */
export const openApiPath = (path: string): string => path.replace(/\{(\w+)\*\}/g, '{$1}');

/** A matcher of a route's path: `{name}` is one segment, `{name*}` the rest of the path. */
export function pathMatcher(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((part) => {
      const param = /^\{(\w+)(\*?)\}$/.exec(part);
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1] ?? '');
      return param[2] ? '(.*)' : '([^/]+)';
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), names };
}
