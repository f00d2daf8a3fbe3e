import { authenticateApiKey, type BucketSpec, type ProjectScope, takeTokens } from '@robotrace/core';
import type { HttpContext } from './http/context.js';
import type { Services } from './services.js';

export function bearerToken(ctx: HttpContext): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(ctx.req.headers.authorization ?? '');
  return m?.[1];
}

/**
 * The project of the caller's API key (401 otherwise), after its rate limits (429). Every API query is
 * scoped by what this returns.
 */
export async function apiScope(ctx: HttpContext, s: Services): Promise<ProjectScope> {
  const key = await authenticateApiKey(s.core, bearerToken(ctx));
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
