import { pathMatcher } from '@robotrace/contracts';
import type { HttpContext } from './context.js';

export type Handler = (ctx: HttpContext) => Promise<void> | void;

interface Route {
  method: string;
  path: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
  /** Routes with more literal segments that match some of the same paths (`/api/episodes/export` for `/api/episodes/{id}`). */
  shadowedBy: Route[];
}

const segmentsOf = (template: string): string[] => template.split('/');
const isParam = (segment: string): boolean => segment.startsWith('{');

/** Whether `literal` names a path `param` also matches, with a literal segment where `param` has a parameter. */
function shadows(literal: string[], param: string[]): boolean {
  if (literal.length !== param.length || [...literal, ...param].some((s) => s.endsWith('*}'))) return false;
  let more = false;
  for (let i = 0; i < literal.length; i++) {
    const a = literal[i] ?? '';
    const b = param[i] ?? '';
    if (isParam(b)) more ||= !isParam(a);
    else if (a !== b) return false;
  }
  return more;
}

/** A portal pattern as an API template: `:id` is `{id}`, a `*` segment is `{rest*}`. */
const asTemplate = (path: string): string =>
  path
    .split('/')
    .map((part) => (part.startsWith(':') ? `{${part.slice(1)}}` : part === '*' ? '{rest*}' : part))
    .join('/');

/** A tiny method + path router: `/portal/episodes/:id` or `/api/episodes/{id}` patterns, params URL-decoded. */
export class Router {
  private readonly routes: Route[] = [];

  /** `path`: a portal pattern (`/portal/episodes/:id`, `/assets/*`) or an API template (`/api/episodes/{id}`). */
  on(method: string, path: string, handler: Handler): this {
    const template = asTemplate(path);
    const { pattern, names } = pathMatcher(template);
    const route: Route = { method, path, pattern, names, handler, shadowedBy: [] };
    // Worked out once here, so matching stays one pass: a request for `/api/episodes/export` is never handed to
    // `/api/episodes/{episode_id}` under another method (DELETE there is a 405, not a 404 for episode "export").
    for (const other of this.routes) {
      const [a, b] = [segmentsOf(asTemplate(other.path)), segmentsOf(template)];
      if (shadows(a, b)) route.shadowedBy.push(other);
      if (shadows(b, a)) other.shadowedBy.push(route);
    }
    this.routes.push(route);
    return this;
  }

  /** What is registered, in order (the tests compare the API part with the OpenAPI document). */
  list(): { method: string; path: string }[] {
    return this.routes.map(({ method, path }) => ({ method, path }));
  }

  /** The handler for a request; `{ allowed }` (for the 405's Allow header) when the path exists under other methods. */
  match(
    method: string,
    pathname: string,
  ): { handler: Handler; params: Record<string, string> } | { allowed: string[] } | null {
    const others: Route[] = [];
    for (const route of this.routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        others.push(route);
        continue;
      }
      if (route.shadowedBy.some((literal) => literal.pattern.test(pathname))) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(m[i + 1] ?? '');
        } catch {
          params[name] = m[i + 1] ?? '';
        }
      });
      return { handler: route.handler, params };
    }
    // A literal segment shadows a parameter: `/api/episodes/export` is not `/api/episodes/{episode_id}`, so the
    // 405's Allow lists only the methods of the most literal templates that match (the fewest parameters).
    const fewest = Math.min(...others.map((r) => r.names.length));
    const allowed = new Set<string>();
    for (const route of others.filter((r) => r.names.length === fewest)) {
      allowed.add(route.method);
      if (route.method === 'GET') allowed.add('HEAD');
    }
    return allowed.size > 0 ? { allowed: [...allowed] } : null;
  }
}
