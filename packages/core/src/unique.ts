import type { ConflictError } from './errors.js';

/** PostgreSQL's SQLSTATE for a unique_violation (the same on PGlite and node-postgres). */
const UNIQUE_VIOLATION = '23505';

/**
 * The unique-constraint violation behind an error, or null. Drizzle wraps driver errors (DrizzleQueryError with
 * the driver's error as `cause`), so the cause chain is walked; PGlite and node-postgres both carry `code` and
 * `constraint` on their DatabaseError.
 */
export function uniqueViolation(err: unknown): { constraint: string | undefined } | null {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, constraint, cause } = e as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (code === UNIQUE_VIOLATION)
      return { constraint: typeof constraint === 'string' ? constraint : undefined };
    e = cause;
  }
  return null;
}

/**
 * Runs a write that inserts a uniquely-constrained row; losing a race for the value (or simply reusing it) is a
 * 409 ConflictError instead of a 500. The write must be one statement or one transaction, so nothing of it stays.
 */
export async function conflictOnDuplicate<T>(
  write: () => Promise<T>,
  conflict: (constraint: string | undefined) => ConflictError,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const violation = uniqueViolation(err);
    if (violation) throw conflict(violation.constraint);
    throw err;
  }
}
