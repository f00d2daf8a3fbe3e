import http from 'node:http';
import https from 'node:https';

/**
 * One GET to the trace backend through node:http(s), the body collected as Buffers up to a byte limit. Why not
 * `fetch()`: on a 1.7 MB answer its WHATWG streams (a Uint8Array and a promise per chunk, then a copy into one
 * buffer) cost several ms more than the backend's own response time on the same connection (bench/trace/run.ts);
 * here each chunk is kept as it arrives and joined once. Redirects are never followed (node:http does not), the
 * request is abandoned on `signal`, and a body past `maxBytes` stops the read.
 */

export interface GetOptions {
  headers: Record<string, string>;
  signal: AbortSignal;
  maxBytes: number;
}

/** The answer: its status and, for a 2xx only, the whole body (other bodies are discarded unread). */
export interface GetAnswer {
  status: number;
  body: Buffer | null;
}

/** The body was larger than the limit (declared or counted). */
export class BodyTooLarge extends Error {}

/** Keep-alive agents, one per protocol and TraceSource: repeated lookups reuse the connection like fetch() did. */
export interface Agents {
  http: http.Agent;
  https: https.Agent;
}
export const keepAliveAgents = (): Agents => ({
  http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 16 }),
});

export function httpGet(url: string, o: GetOptions, agents: Agents): Promise<GetAnswer> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const request = secure ? https.request : http.request;
  return new Promise<GetAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      // An abort surfaces as an ECONNRESET / "aborted" on the socket: report the abort, which says why.
      reject(o.signal.aborted ? (o.signal.reason ?? err) : err);
    };
    const req = request(
      target,
      {
        method: 'GET',
        headers: o.headers,
        agent: secure ? agents.https : agents.http,
        signal: o.signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          res.resume(); // drain, so the connection can be reused
          settled = true;
          resolve({ status, body: null });
          return;
        }
        const declared = Number(res.headers['content-length'] ?? Number.NaN);
        if (Number.isFinite(declared) && declared > o.maxBytes) {
          req.destroy();
          fail(new BodyTooLarge(`the answer is larger than ${o.maxBytes} bytes`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > o.maxBytes) {
            req.destroy();
            fail(new BodyTooLarge(`the answer is larger than ${o.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({
            status,
            body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size),
          });
        });
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('the backend closed the connection mid-answer'));
        });
      },
    );
    req.on('error', fail);
    req.end();
  });
}
