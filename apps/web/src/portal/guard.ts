import {
  AppError,
  AuthError,
  NotFoundError,
  type ProjectRow,
  type ProjectScope,
  projectsOfUser,
} from '@robotrace/core';
import { fromNodeHeaders } from 'better-auth/node';
import type { HttpContext } from '../http/context.js';
import { redirect } from '../http/respond.js';
import type { Handler } from '../http/router.js';
import type { Services } from '../services.js';
import type { Assets } from './assets.js';
import { messagePage, type NavItem, type PageOptions } from './layout.js';

export interface PortalUser {
  id: string;
  email: string;
  name: string;
}

/** A signed-in user and the project they work in (their first one). */
export interface Viewer {
  user: PortalUser;
  project: ProjectRow;
  /** What every core query of this request is scoped by. */
  scope: ProjectScope;
}

/** Thrown by a page to answer with a redirect (e.g. to /login). */
export class Redirect extends Error {
  constructor(
    readonly location: string,
    readonly status = 303,
  ) {
    super(`redirect to ${location}`);
  }
}

/** The Better Auth session of this request (cookie), checked against the database; null when signed out. */
export async function sessionUser(ctx: HttpContext, s: Services): Promise<PortalUser | null> {
  const { headers, response: session } = await s.auth.api.getSession({
    headers: fromNodeHeaders(ctx.req.headers),
    returnHeaders: true,
  });
  // Better Auth extends an active session (and clears a dead one) through Set-Cookie: pass it on, or the
  // browser's cookie would still expire on the original date.
  const cookies = headers.getSetCookie();
  if (cookies.length > 0 && !ctx.res.headersSent) ctx.res.setHeader('set-cookie', cookies);
  if (!session) return null;
  return { id: session.user.id, email: session.user.email, name: session.user.name };
}

/** Only same-site portal paths are followed after sign-in. */
export function safeNext(raw: string | null | undefined): string {
  return raw && /^\/portal(\/[A-Za-z0-9._~\-/%]*)?(\?[!-~]*)?$/.test(raw) && !raw.includes('//')
    ? raw
    : '/portal/episodes';
}

function loginRedirect(ctx: HttpContext): Redirect {
  const next = ctx.req.method === 'GET' ? `${ctx.url.pathname}${ctx.url.search}` : '';
  return new Redirect(
    next && next !== '/portal/episodes' ? `/login?next=${encodeURIComponent(next)}` : '/login',
  );
}

/**
 * Every portal page and handler starts here: the session is checked on the server, in the handler itself,
 * and the user's project resolved. No session → sign-in; no project yet → the project setup page.
 */
export async function requireViewer(ctx: HttpContext, s: Services): Promise<Viewer> {
  const user = await sessionUser(ctx, s);
  if (!user) throw loginRedirect(ctx);
  const [project] = await projectsOfUser(s.core, user.id);
  if (!project) throw new Redirect('/portal/setup');
  return { user, project, scope: { projectId: project.id } };
}

/**
 * CSRF defence for the portal's own form posts (Better Auth checks its own routes): the browser must say the
 * post comes from this origin (Origin, or Sec-Fetch-Site for browsers that omit Origin).
 */
export function checkSameOrigin(ctx: HttpContext, s: Services): void {
  const site = ctx.req.headers['sec-fetch-site'];
  if (site && site !== 'same-origin')
    throw new AppError(403, 'forbidden', 'This form was posted from another site and was refused.');
  const origin = ctx.req.headers.origin;
  if (!origin) {
    if (site === 'same-origin') return;
    throw new AppError(403, 'forbidden', 'This form post carried no Origin header and was refused.');
  }
  const allowed = new Set([new URL(ctx.baseUrl).host]);
  if (ctx.req.headers.host) allowed.add(ctx.req.headers.host);
  if (s.env.ROBOTRACE_PUBLIC_URL) allowed.add(new URL(s.env.ROBOTRACE_PUBLIC_URL).host);
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (!allowed.has(host))
    throw new AppError(403, 'forbidden', 'This form was posted from another origin and was refused.');
}

/** Reads an application/x-www-form-urlencoded body (small: portal forms only). */
export async function readForm(ctx: HttpContext, limit = 64 * 1024): Promise<URLSearchParams> {
  const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw new AppError(415, 'validation_error', 'Expected a form post (application/x-www-form-urlencoded)');
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new AppError(413, 'payload_too_large', 'Form is too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export interface PortalKit {
  s: Services;
  assets: Assets;
}

export type Chrome = NonNullable<PageOptions['chrome']>;
export const chromeOf = (v: Viewer, active: NavItem): Chrome => ({
  user: v.user,
  project: v.project,
  active,
});

/**
 * Wraps a portal handler so failures become pages, not JSON: redirects, a 404 page (another project's or a
 * malformed id), a page for other refusals, and a logged 500 page with the request id.
 */
export function portalPage(kit: PortalKit, handler: Handler): Handler {
  return async (ctx) => {
    try {
      await handler(ctx);
    } catch (err) {
      if (ctx.res.headersSent) {
        ctx.res.destroy();
        return;
      }
      if (err instanceof Redirect) {
        redirect303(ctx, err.location, err.status);
        return;
      }
      if (err instanceof AuthError) {
        redirect303(ctx, loginRedirect(ctx).location, 303);
        return;
      }
      const chrome = await chromeIfSignedIn(ctx, kit.s);
      if (err instanceof NotFoundError) {
        messagePage(ctx, kit.assets, {
          ...(chrome ? { chrome } : {}),
          status: 404,
          title: 'Not found',
          message:
            'There is nothing here in your project. The link may be wrong, or the item belongs elsewhere.',
        });
        return;
      }
      if (err instanceof AppError && err.status < 500) {
        messagePage(ctx, kit.assets, {
          ...(chrome ? { chrome } : {}),
          status: err.status,
          title: err.status === 403 ? 'Refused' : 'That did not work',
          message: err.message,
        });
        return;
      }
      kit.s.log.error('portal error', {
        request_id: ctx.requestId,
        path: ctx.url.pathname,
        error: (err as Error)?.stack ?? String(err),
      });
      messagePage(ctx, kit.assets, {
        status: err instanceof AppError ? err.status : 500,
        title: 'Something went wrong',
        message: 'The server could not show this page. Try again in a moment; the log has the details.',
      });
    }
  };
}

/** The signed-in chrome for an error page, when there is a session (never fails the error page itself). */
async function chromeIfSignedIn(ctx: HttpContext, s: Services): Promise<Chrome | null> {
  try {
    const viewer = await requireViewer(ctx, s);
    return chromeOf(viewer, null);
  } catch {
    return null;
  }
}

function redirect303(ctx: HttpContext, location: string, status: number): void {
  if (status === 302) {
    redirect(ctx.res, location);
    return;
  }
  ctx.res.writeHead(status, { location, 'cache-control': 'no-store', 'content-length': 0 });
  ctx.res.end();
}
