/**
 * The retry policy shared with the Python SDK (spec/SDK_BEHAVIOUR.md; every case of
 * spec/sdk-behaviour-vectors.json runs against these functions): 3 retries by default (`maxRetries`), on
 * network errors, timeouts, 408, 429 and 5xx; full-jitter exponential backoff under ceilings of 1, 2, 4, 8 s
 * (the official SDK's 1/2/4 s schedule, randomised so a fleet of robots does not retry in step); `Retry-After`
 * honoured up to 30 s.
 */
export const DEFAULT_MAX_RETRIES = 3;
export const BASE_DELAY_MS = 1_000;
export const MAX_BACKOFF_MS = 8_000;
export const MAX_RETRY_AFTER_S = 30;

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

// RFC 9110 §10.2.3: delta-seconds (digits only) or an IMF-fixdate. Anything else is ignored, never guessed at
// (V8's Date.parse would read "1" as the year 2001).
const DELTA_SECONDS = /^\d+$/;
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** `Retry-After` as seconds (≥ 0), or undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (DELTA_SECONDS.test(text)) return Number(text);
  if (!IMF_FIXDATE.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - nowMs) / 1000);
}

/**
 * How long to wait before the next attempt, after `failedAttempts` failures (1-based). A server-provided
 * `Retry-After` wins (capped); otherwise a uniformly random delay up to the exponential ceiling.
 */
export function retryDelayMs(
  failedAttempts: number,
  retryAfterS: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterS !== undefined) return Math.min(retryAfterS, MAX_RETRY_AFTER_S) * 1000;
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_DELAY_MS * 2 ** (failedAttempts - 1));
  return random() * ceiling;
}
