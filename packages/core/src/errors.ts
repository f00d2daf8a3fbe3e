import type { ErrorCode } from '@robotrace/contracts';
import type { ZodError } from 'zod';

/** A failure the caller can act on; the HTTP layer maps it to the one error body. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super(400, 'validation_error', message, details);
  }

  /** Names the first offending field in the message; lists every issue in `details`. */
  static fromZod(error: ZodError, what = 'request body'): ValidationError {
    const issues = error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const first = issues[0];
    const where = first?.path ? `${first.path}: ` : '';
    return new ValidationError(`Invalid ${what}: ${where}${first?.message ?? 'invalid'}`, { issues });
  }
}

export class AuthError extends AppError {
  constructor(message: string) {
    super(401, 'unauthorized', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string, code: ErrorCode = 'forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found') {
    super(404, 'not_found', message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: unknown) {
    super(409, 'conflict', message, details);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message: string, details?: unknown) {
    super(413, 'payload_too_large', message, details);
  }
}

export class RateLimitError extends AppError {
  constructor(message: string, retryAfterS: number) {
    super(
      429,
      'rate_limited',
      message,
      { retry_after_s: retryAfterS },
      { 'retry-after': String(retryAfterS) },
    );
  }
}

export class UnavailableError extends AppError {
  constructor(message: string, retryAfterS = 1) {
    super(503, 'unavailable', message, undefined, { 'retry-after': String(retryAfterS) });
  }
}

export class InsufficientStorageError extends AppError {
  constructor(message: string) {
    super(507, 'insufficient_storage', message);
  }
}
