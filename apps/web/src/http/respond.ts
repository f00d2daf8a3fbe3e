import type { ServerResponse } from 'node:http';
import type { ErrorBody } from '@robotrace/contracts';
import { AppError } from '@robotrace/core';
import type { HttpContext } from './context.js';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/** The one error body: `error` stays a string (the official SDK shows it), detail sits beside it. */
export function errorBody(err: AppError, requestId: string): ErrorBody {
  return {
    error: err.message,
    code: err.code,
    ...(err.details === undefined ? {} : { details: err.details }),
    request_id: requestId,
  };
}

export function sendError(ctx: HttpContext, err: AppError): void {
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  sendJson(ctx.res, err.status, errorBody(err, ctx.requestId), err.headers);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

export { AppError };
