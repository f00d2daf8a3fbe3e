import { responseViolation } from './route-check.js';

/**
 * A minimal HTTP client for tests: JSON in, status + JSON out, never throws on HTTP errors, but does throw on an
 * answer that does not match its route's schema for that status (test/support/route-check.ts).
 */
export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export function api(baseUrl: string, apiKey?: string) {
  const call = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    init: { raw?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    if (body !== undefined || init.raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: init.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      redirect: 'manual',
    });
    const text = await res.text();
    const violation = responseViolation(
      method,
      path,
      res.status,
      res.headers.get('content-type') ?? undefined,
      text,
    );
    if (violation) throw new Error(`response off its schema: ${violation}`);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
  return {
    get: <T = Record<string, unknown>>(path: string) => call<T>('GET', path),
    post: <T = Record<string, unknown>>(
      path: string,
      body?: unknown,
      init?: { raw?: string; headers?: Record<string, string> },
    ) => call<T>('POST', path, body, init),
    call,
  };
}

export const T = '4bf92f3577b34da6a3ce929d0e0e4736';
export const S = '00f067aa0ba902b7';
export const TRACEPARENT = `00-${T}-${S}-01`;
