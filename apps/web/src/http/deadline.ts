import { UnavailableError } from '@robotrace/core';

/**
 * API calls answer within this bound even when the database stops answering without closing its connections
 * (a hung host, a network partition): statement_timeout never fires then, and the pool's connect timeout only
 * covers new connections. Past it the caller gets a 503 and may retry (creates and finalizes are idempotent
 * with a key); the abandoned work finishes or fails on its own once the database answers again. Signed
 * uploads and downloads stream for as long as they need and are not bounded here.
 */
export const API_DEADLINE_MS = 20_000;

export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // The work may still settle (and fail writing to a closed response): never an unhandled rejection.
      work.catch(() => {});
      reject(new UnavailableError('The database did not answer in time; retry shortly', 2));
    }, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
