/**
 * The error tree shared with the Python SDK (same class names, same parents, same status mapping:
 * spec/SDK_BEHAVIOUR.md and spec/sdk-behaviour-vectors.json), so a team reading logs from both sees one
 * vocabulary. Argument mistakes are an `ArgumentError`, thrown before any request.
 */

export class RobotraceError extends Error {
  override name = 'RobotraceError';
}

/** No API key or base URL could be found, or one is malformed. */
export class ConfigurationError extends RobotraceError {
  override name = 'ConfigurationError';
}

/** An argument was rejected before the first request, so nothing was created on the server. */
export class ArgumentError extends ConfigurationError {
  override name = 'ArgumentError';
}

/** The request never got an HTTP answer (DNS, refused connection, reset, aborted). */
export class TransportError extends RobotraceError {
  override name = 'TransportError';
}

/** No answer within the timeout (an upload: no bytes moved for the idle timeout), on every attempt. */
export class TimeoutError extends TransportError {
  override name = 'TimeoutError';
}

/** The server answered with an error status. `message`, `code` and `requestId` come from its error body. */
export class APIError extends RobotraceError {
  override name = 'APIError';
  /** HTTP status code. */
  readonly status: number;
  /** The parsed JSON error body, or the raw text when it was not JSON. */
  readonly body: unknown;
  /** Machine-readable code from the body (`validation_error`, `unauthorized`, …), when the server sent one. */
  readonly code: string | undefined;
  /** Server-side request id: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** Structured details (e.g. the invalid fields), when the server sent them. */
  readonly details: unknown;

  constructor(status: number, body: unknown, message?: string) {
    const fields = errorBodyFields(body);
    super(message ?? fields.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.code = fields.code;
    this.requestId = fields.requestId;
    this.details = fields.details;
  }
}

/** 401: missing, malformed or revoked API key. */
export class AuthError extends APIError {
  override name = 'AuthError';
}

/** 400, 413, 422: the server rejected the request's content. */
export class ValidationError extends APIError {
  override name = 'ValidationError';
}

/** 404: unknown episode, or one belonging to another project. */
export class NotFoundError extends APIError {
  override name = 'NotFoundError';
}

/** 409: e.g. finalizing an already finalized episode with another status. */
export class ConflictError extends APIError {
  override name = 'ConflictError';
}

/** 429: still rate limited after the retries. `retryAfter` is in seconds when the server said. */
export class RateLimitError extends APIError {
  override name = 'RateLimitError';
  readonly retryAfter: number | undefined;

  constructor(status: number, body: unknown, retryAfter: number | undefined) {
    super(status, body);
    this.retryAfter = retryAfter;
  }
}

/** 5xx: still failing after the retries. */
export class ServerError extends APIError {
  override name = 'ServerError';
}

/**
 * 403 with code `url_expired`: a signed upload URL was refused as expired. An upload asks for a fresh URL once
 * and sends again, so this surfaces only when the fresh one was refused too.
 */
export class URLExpiredError extends APIError {
  override name = 'URLExpiredError';
}

const BY_STATUS: ReadonlyMap<number, typeof APIError> = new Map([
  [400, ValidationError],
  [413, ValidationError],
  [422, ValidationError],
  [401, AuthError],
  [404, NotFoundError],
  [409, ConflictError],
]);

/** Maps an HTTP error status to its class. */
export function apiErrorFor(status: number, body: unknown, retryAfter?: number): APIError {
  if (status === 429) return new RateLimitError(status, body, retryAfter);
  if (status === 403 && errorBodyFields(body).code === 'url_expired')
    return new URLExpiredError(status, body);
  if (status >= 500) return new ServerError(status, body);
  const Class = BY_STATUS.get(status) ?? APIError;
  return new Class(status, body);
}

interface ErrorBodyFields {
  error: string | undefined;
  code: string | undefined;
  requestId: string | undefined;
  details: unknown;
}

function errorBodyFields(body: unknown): ErrorBodyFields {
  if (typeof body !== 'object' || body === null)
    return { error: undefined, code: undefined, requestId: undefined, details: undefined };
  const record = body as Record<string, unknown>;
  return {
    error: nonEmptyString(record.error) ?? nonEmptyString(record.message),
    code: nonEmptyString(record.code),
    requestId: nonEmptyString(record.request_id),
    details: record.details,
  };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
