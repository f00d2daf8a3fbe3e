import { APIError, apiErrorFor, RobotraceError, TimeoutError, TransportError } from '../errors.js';
import { isRetryableStatus, parseRetryAfter, retryDelayMs } from './retry.js';

export type FetchLike = typeof fetch;

export interface TransportSettings {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  /** Retries after the first attempt (spec/sdk-behaviour-vectors.json). */
  maxRetries: number;
  userAgent: string;
  sdkVersion: string;
  fetch: FetchLike;
}

export interface JsonRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path below the base URL, starting with `/`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** The body as exact JSON text (a spooled record is resent byte for byte: the server hashes it). */
  rawBody?: string;
  /** Sent on every attempt of this one logical call, so a retried create or finalize happens once. */
  idempotencyKey?: string;
  /** Short description for error messages, e.g. "create episode". */
  what: string;
  /** This call's answer deadline instead of the client's (a multipart complete can take minutes on S3). */
  timeoutMs?: number;
}

type Attempt<T> =
  | { ok: true; value: T }
  | { ok: false; error: RobotraceError; retryable: boolean; retryAfterS?: number };

/** The wait between attempts; an object so unit tests can record the waits instead of waiting. */
export const retryTiming = {
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

export interface RetryOptions {
  /** Short description for error messages, e.g. "create episode". */
  what: string;
  maxRetries: number;
  /**
   * Bound of one attempt: a deadline for an answer, unless the attempt reports progress — then an idle bound,
   * restarted by every `progress()` (an upload fails only when no bytes moved for this long).
   */
  timeoutMs: number;
}

export interface AttemptContext {
  signal: AbortSignal;
  /** Bytes moved: restarts the attempt's timer. */
  progress(): void;
}

/**
 * Runs one logical HTTP call with the shared retry policy. The attempt function maps the response, and anything
 * it throws is a transport failure (retried).
 */
export async function withRetries<T>(
  options: RetryOptions,
  attempt: (context: AttemptContext) => Promise<Attempt<T>>,
): Promise<T> {
  const attempts = options.maxRetries + 1;
  for (let attemptNo = 1; ; attemptNo++) {
    const controller = new AbortController();
    let moved = false;
    let timer = setTimeout(() => controller.abort(), options.timeoutMs);
    const progress = () => {
      moved = true;
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), options.timeoutMs);
    };
    let result: Attempt<T>;
    try {
      result = await attempt({ signal: controller.signal, progress });
    } catch (error) {
      const timedOut = controller.signal.aborted;
      result = {
        ok: false,
        error: transportError(options, error, timedOut, moved, attemptNo),
        retryable: true,
      };
    } finally {
      clearTimeout(timer);
    }
    if (result.ok) return result.value;
    if (!result.retryable || attemptNo >= attempts) throw result.error;
    await retryTiming.sleep(retryDelayMs(attemptNo, result.retryAfterS));
  }
}

export class Transport {
  constructor(readonly settings: TransportSettings) {}

  /** A JSON API call; resolves with the parsed JSON object of a 2xx answer. */
  async json<T>(request: JsonRequest): Promise<T> {
    const { maxRetries } = this.settings;
    const timeoutMs = request.timeoutMs ?? this.settings.timeoutMs;
    const { url, headers, body } = this.#prepare(request, 'application/json');

    return withRetries({ what: request.what, maxRetries, timeoutMs }, async ({ signal }) => {
      const response = await this.settings.fetch(url, { method: request.method, headers, body, signal });
      const text = await response.text();
      if (response.ok) {
        const parsed = parseJson(text);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
          return { ok: true, value: parsed as T };
        return {
          ok: false,
          retryable: false,
          error: new APIError(
            response.status,
            text,
            `${request.what}: the server answered ${response.status} without a JSON object`,
          ),
        };
      }
      return errorAttempt(response, parseJson(text) ?? text);
    });
  }

  /**
   * A streamed answer (`GET /api/episodes/export`): resolves with the 2xx response once its headers arrived,
   * its body still unread. Retried like `json` up to that point; the timeout bounds the wait for the headers
   * (the reader bounds each wait for more bytes: `jsonLines`), so a long export is never cut off while lines
   * keep arriving.
   */
  async stream(request: JsonRequest, accept: string): Promise<Response> {
    const { timeoutMs, maxRetries } = this.settings;
    const { url, headers, body } = this.#prepare(request, accept);
    return withRetries({ what: request.what, maxRetries, timeoutMs }, async ({ signal }) => {
      const response = await this.settings.fetch(url, { method: request.method, headers, body, signal });
      // withRetries clears the attempt's timer when this returns: the body is read at the caller's pace.
      if (response.ok) return { ok: true, value: response };
      const text = await response.text();
      return errorAttempt(response, parseJson(text) ?? text);
    });
  }

  /** Authorization and SDK headers for a download from `url`: only when it is on the API's own origin. */
  downloadHeaders(url: string): Record<string, string> {
    const { apiKey, baseUrl, userAgent, sdkVersion } = this.settings;
    const headers: Record<string, string> = {
      'User-Agent': userAgent,
      'X-RoboTrace-SDK-Version': sdkVersion,
    };
    // The API key never goes to another host (a signed storage URL, a proxy's different public name).
    if (new URL(url).origin === new URL(baseUrl).origin) headers.Authorization = `Bearer ${apiKey}`;
    return headers;
  }

  #prepare(
    request: JsonRequest,
    accept: string,
  ): { url: string; headers: Record<string, string>; body: string | undefined } {
    const { apiKey, baseUrl, userAgent, sdkVersion } = this.settings;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${apiKey}`,
      Accept: accept,
      'User-Agent': userAgent,
      'X-RoboTrace-SDK-Version': sdkVersion,
    };
    const body = request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (request.idempotencyKey) headers['Idempotency-Key'] = request.idempotencyKey;
    return { url: buildUrl(baseUrl, request.path, request.query), headers, body };
  }
}

/** Maps an error response to a failed attempt, retryable per the policy. */
export function errorAttempt(response: Response, body: unknown): Attempt<never> {
  const retryAfterS = parseRetryAfter(response.headers.get('retry-after'));
  return {
    ok: false,
    error: apiErrorFor(response.status, body, retryAfterS),
    retryable: isRetryableStatus(response.status),
    retryAfterS,
  };
}

export function buildUrl(
  baseUrl: string,
  path: string,
  query?: Record<string, string | number | undefined>,
): string {
  // The base URL was normalized at construction and paths are encoded by the caller: no URL parse needed.
  if (query === undefined) return `${baseUrl}${path}`;
  const url = new URL(`${baseUrl}${path}`);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
  }
  return url.toString();
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function transportError(
  options: RetryOptions,
  error: unknown,
  timedOut: boolean,
  moved: boolean,
  attempts: number,
): RobotraceError {
  if (error instanceof RobotraceError) return error;
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  if (timedOut) {
    const bound = moved
      ? `no bytes moved for ${options.timeoutMs} ms`
      : `no answer within ${options.timeoutMs} ms`;
    return new TimeoutError(`${options.what}: ${bound} (${tries})`, { cause: error });
  }
  return new TransportError(`${options.what}: ${describeNetworkError(error)} (${tries})`, { cause: error });
}

/** undici hides the useful part ("ECONNREFUSED 127.0.0.1:3000") in `cause`. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code} ${cause.message.replace(new RegExp(`^${code}\\s*`), '')}`.trim() : cause.message;
  }
  return error.message;
}
