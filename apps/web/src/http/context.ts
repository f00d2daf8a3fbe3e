import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface HttpContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  requestId: string;
  /** The origin the caller reached us at (or ROBOTRACE_PUBLIC_URL), for URLs we hand back. */
  baseUrl: string;
  params: Record<string, string>;
}

const SAFE_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given)
    ? given
    : `req_${randomBytes(9).toString('base64url')}`;
}

export function baseUrlOf(
  req: IncomingMessage,
  opts: { publicUrl?: string | undefined; trustProxy: boolean; fallbackHost: string },
): string {
  if (opts.publicUrl) return opts.publicUrl;
  const forwardedProto = opts.trustProxy
    ? String(req.headers['x-forwarded-proto'] ?? '')
        .split(',')[0]
        ?.trim()
    : '';
  const forwardedHost = opts.trustProxy
    ? String(req.headers['x-forwarded-host'] ?? '')
        .split(',')[0]
        ?.trim()
    : '';
  const proto = forwardedProto === 'https' ? 'https' : 'http';
  const host = forwardedHost || req.headers.host || '';
  return `${proto}://${SAFE_HOST.test(host) ? host : opts.fallbackHost}`;
}

/** The caller's address: the socket's, or the first X-Forwarded-For hop when a trusted proxy sets it. */
export function clientIpOf(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const first = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')[0]
      ?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}
