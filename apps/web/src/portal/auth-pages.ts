import {
  anyUserExists,
  ConflictError,
  createProject,
  discardNewUser,
  findProjectByName,
  PROJECT_NAME,
  projectsOfUser,
} from '@robotrace/core';
import { CLIENT_IP_HEADER } from '../auth.js';
import type { HttpContext } from '../http/context.js';
import type { Router } from '../http/router.js';
import {
  checkSameOrigin,
  type PortalKit,
  portalPage,
  Redirect,
  readForm,
  safeNext,
  sessionUser,
} from './guard.js';
import { type Html, html } from './html.js';
import { messagePage, sendPage } from './layout.js';

/**
 * Headers of the browser's request that Better Auth needs to see (cookies, origin checks, rate limits). The
 * client-IP header (set by app.ts from the socket or the trusted proxy) keys the sign-in limit: without it every
 * form sign-in shared one bucket.
 */
const FORWARDED = ['cookie', 'host', 'origin', 'referer', 'user-agent', CLIENT_IP_HEADER];

/**
 * Calls one of Better Auth's own endpoints through its request handler, so its checks (origin, rate
 * limits, hooks such as "sign-up only for the first account") apply exactly as on /api/auth/*.
 */
async function callAuth(ctx: HttpContext, kit: PortalKit, path: string, body: unknown): Promise<Response> {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const name of FORWARDED) {
    const v = ctx.req.headers[name];
    if (typeof v === 'string') headers.set(name, v);
  }
  return kit.s.auth.handler(
    new Request(`${ctx.baseUrl}/api/auth${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    }),
  );
}

async function authError(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { message?: string };
    return body.message ?? `Failed (${res.status})`;
  } catch {
    return `Failed (${res.status})`;
  }
}

function sendRedirectWithCookies(ctx: HttpContext, location: string, res: Response): void {
  ctx.res.writeHead(303, {
    location,
    'cache-control': 'no-store',
    'content-length': 0,
    'set-cookie': res.headers.getSetCookie(),
  });
  ctx.res.end();
}

function authShell(title: string, intro: Html, form: Html): Html {
  return html`<section class="auth-card card" aria-labelledby="auth-title">
  <div class="auth-brand"><span class="brand-mark" aria-hidden="true"></span>RoboTrace</div>
  <h1 id="auth-title">${title}</h1>
  ${intro}
  ${form}
</section>`;
}

function loginPage(
  ctx: HttpContext,
  kit: PortalKit,
  o: { email?: string; error?: string; next: string; status?: number },
): void {
  const signup = kit.s.env.ROBOTRACE_ALLOW_SIGNUP
    ? html`<p class="muted small auth-alt">No account? <a href="/signup">Create one</a></p>`
    : '';
  sendPage(ctx, kit.assets, {
    title: 'Sign in',
    status: o.status ?? 200,
    body: authShell(
      'Sign in',
      html`<p class="muted">Episodes, videos and traces of your robots.</p>`,
      html`<form method="post" action="/login" class="auth-form">
  <input type="hidden" name="next" value="${o.next}">
  <label class="field"><span>Email</span><input type="email" name="email" value="${o.email ?? ''}" required autocomplete="username" autofocus></label>
  <label class="field"><span>Password</span><input type="password" name="password" required autocomplete="current-password"></label>
  ${o.error ? html`<p class="form-error" role="alert">${o.error}</p>` : ''}
  <button type="submit" class="button primary wide">Sign in</button>
</form>
${signup}`,
    ),
  });
}

function signupPage(
  ctx: HttpContext,
  kit: PortalKit,
  o: { first: boolean; values?: Record<string, string>; error?: string; status?: number },
): void {
  const v = o.values ?? {};
  sendPage(ctx, kit.assets, {
    title: o.first ? 'Set up RoboTrace' : 'Create an account',
    status: o.status ?? 200,
    body: authShell(
      o.first ? 'Welcome — create the owner account' : 'Create an account',
      o.first
        ? html`<p class="muted">Nobody has signed up on this server yet. The first account becomes the owner; later sign-ups are closed unless <code>ROBOTRACE_ALLOW_SIGNUP=1</code>.</p>`
        : html`<p class="muted">Your account gets its own project.</p>`,
      html`<form method="post" action="/signup" class="auth-form">
  <label class="field"><span>Name</span><input name="name" value="${v.name ?? ''}" required maxlength="100" autocomplete="name"></label>
  <label class="field"><span>Email</span><input type="email" name="email" value="${v.email ?? ''}" required autocomplete="username"></label>
  <label class="field"><span>Password</span><input type="password" name="password" required minlength="8" autocomplete="new-password" aria-describedby="password-hint"></label>
  <p class="muted small" id="password-hint">At least 8 characters.</p>
  <label class="field"><span>Project name</span><input name="project" value="${v.project ?? ''}" required maxlength="63" placeholder="e.g. pick-and-place" aria-describedby="project-hint"></label>
  <p class="muted small" id="project-hint">Letters, digits, spaces, “.”, “_” or “-”.</p>
  ${o.error ? html`<p class="form-error" role="alert">${o.error}</p>` : ''}
  <button type="submit" class="button primary wide">${o.first ? 'Create account and project' : 'Create account'}</button>
</form>
<p class="muted small auth-alt">Already have an account? <a href="/login">Sign in</a></p>`,
    ),
  });
}

function setupPage(ctx: HttpContext, kit: PortalKit, o: { error?: string; name?: string; status?: number }) {
  sendPage(ctx, kit.assets, {
    title: 'Create a project',
    status: o.status ?? 200,
    body: authShell(
      'Create your project',
      html`<p class="muted">Episodes and API keys live in a project.</p>`,
      html`<form method="post" action="/portal/setup" class="auth-form">
  <label class="field"><span>Project name</span><input name="project" value="${o.name ?? ''}" required maxlength="63" autocomplete="off"></label>
  ${o.error ? html`<p class="form-error" role="alert">${o.error}</p>` : ''}
  <button type="submit" class="button primary wide">Create project</button>
</form>
<form method="post" action="/logout" class="auth-alt"><button type="submit" class="link-button">Sign out</button></form>`,
    ),
  });
}

/** Why a project name cannot be used, or null. */
async function projectNameProblem(kit: PortalKit, name: string): Promise<string | null> {
  if (!PROJECT_NAME.test(name)) return 'Project names are 1–63 letters, digits, spaces, “.”, “_” or “-”.';
  if (await findProjectByName(kit.s.core, name)) return `A project named “${name}” already exists.`;
  return null;
}

export function registerAuthPages(router: Router, kit: PortalKit): void {
  const { s } = kit;

  router.on(
    'GET',
    '/',
    portalPage(kit, async (ctx) => {
      throw new Redirect((await sessionUser(ctx, s)) ? '/portal/episodes' : '/login', 302);
    }),
  );
  router.on(
    'GET',
    '/portal',
    portalPage(kit, () => {
      throw new Redirect('/portal/episodes', 302);
    }),
  );

  router.on(
    'GET',
    '/login',
    portalPage(kit, async (ctx) => {
      const next = safeNext(ctx.url.searchParams.get('next'));
      if (await sessionUser(ctx, s)) throw new Redirect(next, 302);
      if (!(await anyUserExists(s.core))) throw new Redirect('/signup', 302);
      loginPage(ctx, kit, { next });
    }),
  );

  router.on(
    'POST',
    '/login',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, s);
      const form = await readForm(ctx);
      const email = form.get('email')?.trim() ?? '';
      const password = form.get('password') ?? '';
      const next = safeNext(form.get('next'));
      if (!email || !password)
        return loginPage(ctx, kit, { email, next, error: 'Enter your email and password.', status: 400 });
      const res = await callAuth(ctx, kit, '/sign-in/email', { email, password, rememberMe: true });
      if (res.ok) return sendRedirectWithCookies(ctx, next, res);
      const error =
        res.status === 401
          ? 'Wrong email or password.'
          : res.status === 429
            ? 'Too many attempts. Wait a minute and try again.'
            : await authError(res);
      loginPage(ctx, kit, { email, next, error, status: res.status === 429 ? 429 : 401 });
    }),
  );

  router.on(
    'GET',
    '/signup',
    portalPage(kit, async (ctx) => {
      if (await sessionUser(ctx, s)) throw new Redirect('/portal/episodes', 302);
      const first = !(await anyUserExists(s.core));
      if (!first && !s.env.ROBOTRACE_ALLOW_SIGNUP)
        return messagePage(ctx, kit.assets, {
          status: 403,
          title: 'Sign-up is closed',
          message:
            'This server already has its owner. Ask them for an account, or start the server with ROBOTRACE_ALLOW_SIGNUP=1 to open sign-up.',
          action: html`<a class="button" href="/login">Sign in</a>`,
        });
      signupPage(ctx, kit, { first });
    }),
  );

  router.on(
    'POST',
    '/signup',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, s);
      const form = await readForm(ctx);
      const values = {
        name: form.get('name')?.trim() ?? '',
        email: form.get('email')?.trim() ?? '',
        project: form.get('project')?.trim() ?? '',
      };
      const password = form.get('password') ?? '';
      const first = !(await anyUserExists(s.core));
      const fail = (error: string, status = 400) => signupPage(ctx, kit, { first, values, error, status });
      if (!values.name || !values.email || !password) return fail('Fill in every field.');
      if (password.length < 8) return fail('The password needs at least 8 characters.');
      const problem = await projectNameProblem(kit, values.project);
      if (problem) return fail(problem);
      // Better Auth enforces "first account only unless ROBOTRACE_ALLOW_SIGNUP=1" in its create hook.
      const res = await callAuth(ctx, kit, '/sign-up/email', {
        name: values.name,
        email: values.email,
        password,
      });
      if (!res.ok) return fail(await authError(res), res.status === 403 ? 403 : 400);
      const answer = (await res.clone().json()) as { user?: { id?: string } };
      const userId = answer.user?.id;
      if (userId) {
        try {
          await createProject(s.core, values.project, userId);
        } catch (err) {
          // Better Auth committed the account in its own transaction; without its project it is undone, so a
          // sign-up either makes both or neither. Losing a race for the name is a 409 on the same form.
          await discardNewUser(s.core, userId);
          if (!(err instanceof ConflictError)) throw err;
          return fail(`A project named “${values.project}” already exists.`, 409);
        }
      }
      s.log.info('portal sign-up', { email: values.email, owner: first });
      sendRedirectWithCookies(ctx, '/portal/episodes', res);
    }),
  );

  router.on(
    'POST',
    '/logout',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, s);
      const res = await callAuth(ctx, kit, '/sign-out', {});
      sendRedirectWithCookies(ctx, '/login', res);
    }),
  );

  router.on(
    'GET',
    '/portal/setup',
    portalPage(kit, async (ctx) => {
      const user = await sessionUser(ctx, s);
      if (!user) throw new Redirect('/login');
      if ((await projectsOfUser(s.core, user.id)).length > 0) throw new Redirect('/portal/episodes', 302);
      setupPage(ctx, kit, {});
    }),
  );

  router.on(
    'POST',
    '/portal/setup',
    portalPage(kit, async (ctx) => {
      checkSameOrigin(ctx, s);
      const user = await sessionUser(ctx, s);
      if (!user) throw new Redirect('/login');
      const name = (await readForm(ctx)).get('project')?.trim() ?? '';
      if ((await projectsOfUser(s.core, user.id)).length > 0) throw new Redirect('/portal/episodes');
      const problem = await projectNameProblem(kit, name);
      if (problem) return setupPage(ctx, kit, { error: problem, name, status: 400 });
      try {
        await createProject(s.core, name, user.id);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        return setupPage(ctx, kit, { error: `A project named “${name}” already exists.`, name, status: 409 });
      }
      throw new Redirect('/portal/episodes');
    }),
  );
}
