/**
 * The retry policy shared with the Python SDK: at most 4 attempts; retried on network errors, timeouts, 408,
 * 429 and 5xx; full-jitter exponential backoff (up to 1 s, 2 s, 4 s); `Retry-After` honoured up to 30 s.
 */
export const MAX_ATTEMPTS = 4;
export const BASE_DELAY_MS = 1_000;
export const MAX_BACKOFF_MS = 8_000;
export const MAX_RETRY_AFTER_S = 30;

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date), or undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - nowMs) / 1000);
}

/**
 * How long to wait before the next attempt, after `failedAttempts` failures (1-based). A server-provided
 * `Retry-After` wins (capped); otherwise a uniformly random delay up to the exponential ceiling ("full jitter"),
 * which spreads a fleet of robots retrying at once.
 */
export function retryDelayMs(
  failedAttempts: number,
  retryAfterS: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterS !== undefined) return Math.min(retryAfterS, MAX_RETRY_AFTER_S) * 1000;
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_DELAY_MS * 2 ** (failedAttempts - 1));
  return Math.floor(random() * ceiling);
}
