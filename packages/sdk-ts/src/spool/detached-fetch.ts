import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * The subset of `fetch` the SDK's transport uses, over node:http with **unref'd sockets**: a background
 * delivery in flight never keeps the user's process alive. When the user's work is done the process reaches
 * `beforeExit`, where the worker flushes for at most `flushTimeoutMs` and lets it end (spec/SPOOL.md "Exit").
 * A network failure rejects with `TypeError('fetch failed', { cause })` like undici, so errors read the same.
 */
export const detachedFetch = ((input: string | URL, init: RequestInit = {}): Promise<Response> => {
  const url = new URL(String(input));
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    const req = send(url, {
      method: init.method ?? 'GET',
      headers: init.headers as Record<string, string> | undefined,
      agent: secure ? agents.https : agents.http,
    });
    const fail = (cause: unknown) => reject(new TypeError('fetch failed', { cause }));
    req.on('socket', (socket) => socket.unref());
    req.on('error', fail);
    const signal = init.signal;
    if (signal) {
      if (signal.aborted) req.destroy(new Error('aborted'));
      signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
    }
    req.on('response', (res: IncomingMessage) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else if (value !== undefined) headers.set(name, value);
      }
      const status = res.statusCode ?? 0;
      const empty = status === 204 || status === 304 || status < 200;
      if (empty) res.resume();
      const body = empty ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
      resolve(new Response(body, { status, statusText: res.statusMessage ?? '', headers }));
    });
    const body = init.body;
    if (body === undefined || body === null) req.end();
    else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
    else if (body instanceof ReadableStream) {
      const stream = Readable.fromWeb(body as unknown as NodeWebStream<Uint8Array>);
      stream.on('error', (error) => req.destroy(error));
      stream.pipe(req);
    } else fail(new Error('detachedFetch: unsupported body type'));
  });
}) as typeof fetch;
