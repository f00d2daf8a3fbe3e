/**
 * The portal over plain HTTP (no browser): sign-up / sign-in through the real routes, a cookie header per
 * user, form posts with the same-origin header the CSRF check wants. Used by the tenant-isolation and
 * security tests.
 */

export interface PortalUser {
  email: string;
  password: string;
  /** `name=value; …` of the session cookies the server set. */
  cookie: string;
  /** The raw Set-Cookie lines of the sign-in, for attribute checks. */
  setCookie: string[];
}

export function cookieHeader(setCookie: string[]): string {
  return setCookie.map((line) => line.split(';')[0]?.trim() ?? '').join('; ');
}

/** Better Auth's JSON sign-in (the route the portal's /login form calls). */
export async function signIn(
  base: string,
  email: string,
  password: string,
  origin = base,
): Promise<PortalUser> {
  const res = await fetch(`${base}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in of ${email} answered ${res.status}: ${await res.text()}`);
  const setCookie = res.headers.getSetCookie();
  return { email, password, cookie: cookieHeader(setCookie), setCookie };
}

/** The portal's sign-up form: an account and its first project (needs ROBOTRACE_ALLOW_SIGNUP=1 after the owner). */
export async function signUp(
  base: string,
  user: { name: string; email: string; password: string; project: string },
): Promise<PortalUser> {
  const res = await fetch(`${base}/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: new URLSearchParams(user).toString(),
    redirect: 'manual',
  });
  if (res.status !== 303)
    throw new Error(`sign-up of ${user.email} answered ${res.status}: ${await res.text()}`);
  const setCookie = res.headers.getSetCookie();
  return { email: user.email, password: user.password, cookie: cookieHeader(setCookie), setCookie };
}

export interface PageResponse {
  status: number;
  html: string;
  headers: Headers;
}

/** A portal page or form post as this user (same-origin, no redirect following). */
export async function portal(
  base: string,
  user: PortalUser | null,
  path: string,
  form?: Record<string, string>,
): Promise<PageResponse> {
  const headers: Record<string, string> = { origin: base };
  if (user) headers.cookie = user.cookie;
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(`${base}${path}`, {
    method: form ? 'POST' : 'GET',
    headers,
    body: form ? new URLSearchParams(form).toString() : undefined,
    redirect: 'manual',
  });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

/** Creates an API key on the portal's API keys page; returns the key (shown once) and its id (for revoking). */
export async function createKeyInPortal(
  base: string,
  user: PortalUser,
  name: string,
): Promise<{ key: string; id: string }> {
  const page = await portal(base, user, '/portal/api-keys', { name });
  if (page.status !== 201) throw new Error(`creating key ${name} answered ${page.status}`);
  const key = /data-new-key>(rt_[A-Za-z0-9_]+)</.exec(page.html)?.[1];
  // The key's row: the one showing its display prefix (`rt_` + 7 characters).
  const row = key && page.html.split('<tr').find((r) => r.includes(`<code>${key.slice(0, 10)}`));
  const id = row && /action="\/portal\/api-keys\/([0-9a-f-]{36})\/revoke"/.exec(row)?.[1];
  if (!key || !id) throw new Error(`no key or id for ${name} on the API keys page`);
  return { key, id };
}
