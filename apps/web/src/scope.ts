import { authenticateApiKey, type ProjectScope } from '@robotrace/core';
import type { HttpContext } from './http/context.js';
import type { Services } from './services.js';

export function bearerToken(ctx: HttpContext): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(ctx.req.headers.authorization ?? '');
  return m?.[1];
}

/** The project of the caller's API key (401 otherwise). Every API query is scoped by what this returns. */
export async function apiScope(ctx: HttpContext, s: Services): Promise<ProjectScope> {
  return authenticateApiKey(s.core.db, bearerToken(ctx), s.core.clock.now());
}
