import { authenticateApiKey, type BucketSpec, type ProjectScope, takeTokens } from '@robotrace/core';
import type { HttpContext } from './http/context.js';
import type { Services } from './services.js';

export function bearerToken(ctx: HttpContext): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(ctx.req.headers.authorization ?? '');
  return m?.[1];
}

/**
 * The caller's API key: `Authorization: Bearer rt_…`, else `X-RoboTrace-Key: rt_…` (OFFICIAL_PILLARS.md). A
 * present Authorization header decides alone, so a wrong Bearer is never rescued by the other header; a missing
 * and a wrong key both end in the one 401 of authenticateApiKey.
 */
export function apiKeyOf(ctx: HttpContext): string | undefined {
  if (ctx.req.headers.authorization !== undefined) return bearerToken(ctx);
  const header = ctx.req.headers['x-robotrace-key'];
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  return value || undefined;
}

/**
 * The project of the caller's API key (401 otherwise), after its rate limits (429). Every API query is
 * scoped by what this returns.
 */
export async function apiScope(ctx: HttpContext, s: Services): Promise<ProjectScope> {
  const key = await authenticateApiKey(s.core, apiKeyOf(ctx));
  const buckets: BucketSpec[] = [];
  if (s.env.ROBOTRACE_RATE_LIMIT_PER_MINUTE > 0)
    buckets.push({ bucket: `key:${key.keyId}`, perMinute: s.env.ROBOTRACE_RATE_LIMIT_PER_MINUTE });
  if (s.env.ROBOTRACE_PROJECT_RATE_LIMIT_PER_MINUTE > 0)
    buckets.push({
      bucket: `project:${key.projectId}`,
      perMinute: s.env.ROBOTRACE_PROJECT_RATE_LIMIT_PER_MINUTE,
    });
  if (buckets.length > 0) await takeTokens(s.core, buckets);
  return { projectId: key.projectId };
}
