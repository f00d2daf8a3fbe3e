import { InvalidArgumentError } from 'commander';
import { parseTraceLookup, type TraceLookup } from '../lookup.js';
import { EPISODE_SOURCES, EPISODE_STATUSES } from '../wire.js';

/** Commander argument parsers: a bad value becomes commander's one-line usage error before anything runs. */

export function integer(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('Expected an integer.');
  return n;
}

export function nonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('Expected a number ≥ 0.');
  return n;
}

export function limit(value: string): number {
  const n = integer(value);
  if (n < 1 || n > 200) throw new InvalidArgumentError('Expected 1 to 200.');
  return n;
}

export function oneOf<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as readonly string[]).includes(value))
      throw new InvalidArgumentError(`Expected one of ${allowed.join(', ')}.`);
    return value as T;
  };
}

export const source = oneOf(EPISODE_SOURCES);
export const status = oneOf(EPISODE_STATUSES);

/** `key=value` pairs collected into metadata; values that parse as JSON (numbers, true, {…}) keep their type. */
export function metaPair(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('Expected key=value.');
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Plain text stays a string.
  }
  return { ...previous, [value.slice(0, eq)]: parsed };
}

export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('Expected a JSON object.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError('Expected a JSON object.');
  return parsed as Record<string, unknown>;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** A W3C traceparent as the server will accept it (any case accepted, sent lowercase). */
export function traceparent(value: string): string {
  const text = value.trim().toLowerCase();
  const match = TRACEPARENT.exec(text);
  if (!match || /^0+$/.test(match[1] ?? '') || /^0+$/.test(match[2] ?? '')) {
    throw new InvalidArgumentError(
      'Expected a W3C traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>.',
    );
  }
  return text;
}

export function traceLookup(value: string): TraceLookup {
  const found = parseTraceLookup(value);
  if (!found) {
    throw new InvalidArgumentError(
      'Expected a trace id, traceparent, X-Ray id, span id or APM URL containing a trace id.',
    );
  }
  return found;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 time with its offset (`2026-11-24T10:00:00Z`), as the server's `created_after` takes it. */
export function isoTime(value: string): string {
  const text = value.trim();
  if (!ISO_TIME.test(text) || Number.isNaN(Date.parse(text)))
    throw new InvalidArgumentError('Expected an ISO 8601 time with offset, e.g. 2026-11-24T10:00:00Z.');
  return text;
}
