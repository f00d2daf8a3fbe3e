import { API_ROUTES, ErrorBody, errorStatusesOf, type RouteDef } from '@robotrace/contracts';
import { Router } from '../../apps/web/src/http/router.js';

/**
 * The table's route for a request, found by the app's own router (so a literal path such as
 * `/api/episodes/export` is never read as `/api/episodes/{episode_id}`, exactly as the app dispatches it).
 */
const DEFS = new Map<unknown, RouteDef>();
const ROUTER = new Router();
for (const def of API_ROUTES) {
  const handler = () => {};
  DEFS.set(handler, def);
  ROUTER.on(def.method, def.path, handler);
}

export function routeOf(method: string, pathname: string): RouteDef | undefined {
  const found = ROUTER.match(method, pathname);
  return found && 'handler' in found ? DEFS.get(found.handler) : undefined;
}

const isJson = (contentType: string | undefined) => /^application\/json\b/i.test(contentType ?? '');

function bodyViolation(
  what: string,
  schema: typeof ErrorBody | NonNullable<RouteDef['responses'][number]['schema']>,
  contentType: string | undefined,
  body: string,
): string | null {
  if (!isJson(contentType)) return `${what}: Content-Type ${contentType ?? 'none'}, expected JSON`;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return `${what}: the body is not JSON: ${body.slice(0, 200)}`;
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return null;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  return `${what}: the body does not match its schema (${issues}): ${body.slice(0, 300)}`;
}

/**
 * Checks one response of the JSON API against the route table: a status the route declares (a 500 is always
 * possible, and is the test's own failure to explain), the body schema of that status, the one error body
 * for every error. `null` when it conforms; portal pages and Better Auth's /api/auth/* are not checked.
 */
export function responseViolation(
  method: string,
  url: string,
  status: number,
  contentType: string | undefined,
  body: string,
): string | null {
  const pathname = new URL(url, 'http://x').pathname;
  if (!pathname.startsWith('/api/') || pathname.startsWith('/api/auth/')) return null;
  const what = `${method} ${pathname} → ${status}`;
  const hasBody = method !== 'HEAD' && body !== '';
  const def = routeOf(method, pathname);
  if (!def) {
    if (![404, 405, 503].includes(status)) return `${what}: no route of the table serves this request`;
    return hasBody ? bodyViolation(what, ErrorBody, contentType, body) : `${what}: no error body`;
  }
  const success = def.responses[status];
  if (success) {
    if (!success.schema || !hasBody) return null;
    return bodyViolation(`${what} (${def.operationId})`, success.schema, contentType, body);
  }
  if (status !== 500 && !errorStatusesOf(def).includes(status))
    return `${what}: ${def.operationId} does not declare ${status}`;
  // A 416 carries only Content-Range.
  if (status === 416 || method === 'HEAD') return null;
  return bodyViolation(`${what} (${def.operationId})`, ErrorBody, contentType, body);
}
