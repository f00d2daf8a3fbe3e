import { ArgumentError } from './errors.js';
import { EPISODE_SOURCES, type EpisodeSource, type JsonObject } from './wire.js';

/**
 * Argument checks that run before the first request, so a typo never leaves an orphaned "recording" episode
 * on the server. A mistake is an ArgumentError naming the argument. Limits: spec/sdk-behaviour-vectors.json.
 */
const MAX_METADATA_BYTES = 1024 * 1024;

/** Longest accepted text per create field, in characters (code points, as Python's `len`). */
export const MAX_TEXT_LENGTH = {
  name: 200,
  robot: 120,
  policy_version: 200,
  env_version: 200,
  git_sha: 100,
} as const;

export function fail(message: string): never {
  throw new ArgumentError(`robotrace: ${message}`);
}

const absent = (value: unknown): value is null | undefined => value === undefined || value === null;

export function checkSource(value: unknown): EpisodeSource {
  if (absent(value)) return 'real';
  if (typeof value !== 'string' || !(EPISODE_SOURCES as readonly string[]).includes(value)) {
    fail(`source must be one of ${EPISODE_SOURCES.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as EpisodeSource;
}

export function checkText(name: string, value: unknown, maxLength: number): string | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'string') fail(`${name} must be a string (got ${typeof value})`);
  // Code points, not UTF-16 units: "🤖" is one character here as in the Python SDK.
  if (value.length > maxLength && [...value].length > maxLength)
    fail(`${name} is longer than ${maxLength} characters`);
  return value;
}

export function checkInteger(name: string, value: unknown): number | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    fail(`${name} must be an integer (got ${String(value)})`);
  return value;
}

export function checkNonNegative(name: string, value: unknown): number | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(`${name} must be a finite number ≥ 0 (got ${String(value)})`);
  }
  return value;
}

export function checkMetadata(value: unknown): JsonObject | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) fail('metadata must be a plain object');
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    fail(`metadata is not JSON-serializable (${(error as Error).message})`);
  }
  if (Buffer.byteLength(json) > MAX_METADATA_BYTES) fail('metadata is larger than 1 MiB once serialized');
  return value as JsonObject;
}

export function checkFinalStatus(value: unknown): 'ready' | 'failed' {
  if (absent(value)) return 'ready';
  if (value !== 'ready' && value !== 'failed')
    fail(`status must be "ready" or "failed" (got ${JSON.stringify(value)})`);
  return value;
}

export function checkPath(name: string, value: unknown): string | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'string' || value.length === 0) fail(`${name} must be a file path`);
  return value;
}
