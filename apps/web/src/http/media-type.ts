import type { IncomingMessage } from 'node:http';
import { AppError } from '@robotrace/core';

/** `application/json` and any `application/<x>+json`, with or without parameters (`; charset=utf-8`). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(type);
}

/** Whether the request carries body bytes (a declared length above 0, or a chunked body). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * JSON routes take JSON only (a text/plain or form body is refused, never guessed at). A request without a
 * body is let through whatever it declares: it is read as `{}` and the route's schema decides.
 */
export function requireJsonBody(req: IncomingMessage): void {
  if (!hasBody(req) || isJsonMediaType(req.headers['content-type'])) return;
  const given = req.headers['content-type'];
  throw new AppError(
    415,
    'unsupported_media_type',
    `Content-Type must be application/json (got ${given ? JSON.stringify(given) : 'none'})`,
  );
}
