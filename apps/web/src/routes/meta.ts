import { buildOpenApiDocument } from '@robotrace/contracts';
import { UnavailableError } from '@robotrace/core';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import type { Services } from '../services.js';

export function registerMeta(router: Router, s: Services): void {
  router.on('GET', '/api/health', async (ctx) => {
    try {
      await Promise.all([s.dbh.ping(), s.core.store.ping()]);
    } catch (err) {
      s.log.warn('health check failed', { error: (err as Error).message });
      throw new UnavailableError('Database or storage is not answering');
    }
    sendJson(ctx.res, 200, { status: 'ok' });
  });

  let openapi: unknown;
  router.on('GET', '/api/openapi.json', (ctx) => {
    openapi ??= buildOpenApiDocument();
    sendJson(ctx.res, 200, openapi, { 'cache-control': 'public, max-age=300' });
  });
}
