import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../credentials.js';
import { ARTIFACT_KINDS, type ArtifactKind } from '../wire.js';
import type { MultipartProgress } from './multipart.js';

/** The spool format both SDKs read and write (spec/SPOOL.md). */
export const SPOOL_FORMAT = 1;
export const DEFAULT_MAX_BYTES = 10 * 1024 ** 3;
export const DEFAULT_MAX_AGE_S = 7 * 86_400;

export interface SpoolFile {
  kind: ArtifactKind;
  name: string;
  size: number;
  /** Absolute path the user logged; read only while the spool has no copy of its own. */
  source: string;
}

export interface SpoolRecord {
  id: string;
  createdAt: string;
  createKey: string;
  /** The exact JSON text sent: the server keys idempotency on the key and a hash of these bytes. */
  createBody: string;
  finalizeKey: string;
  finalizeBody: string;
  files: SpoolFile[];
}

/** Progress of one record, replaced atomically after each step (spec/SPOOL.md "state.json"). */
export interface SpoolState {
  episode_id?: string;
  url?: string;
  upload_urls?: Array<{ kind: ArtifactKind; url: string; expires_at: string; public_url?: string | null }>;
  uploaded?: ArtifactKind[];
  finalized?: boolean;
  status?: string;
  /** Resumable uploads by kind: the upload id, the file's SHA-256 and the acknowledged parts' ETags. */
  multipart?: Partial<Record<ArtifactKind, MultipartProgress>>;
  attempts?: number;
  last_error?: string;
  parked_reason?: string;
  parked_at?: string;
  /** Set by `robotrace spool retry`: the max age counts from here for a record that had expired. */
  retried_at?: string;
}

export interface Receipt {
  id: string;
  episode_id: string;
  url: string;
  status: string;
  delivered_at: string;
}

export class CorruptRecordError extends Error {
  override name = 'CorruptRecordError';
}

/** `<13-digit unix ms>-<16 hex>`: names sort oldest first. */
export function newRecordId(now = Date.now()): string {
  return `${String(now).padStart(13, '0')}-${randomBytes(8).toString('hex')}`;
}

/** A record id as spool names are made (anything else is no record: never a path). */
export const RECORD_ID = /^\d{13}-[0-9a-f]{16}$/;

export function recordCreatedMs(id: string): number {
  const ms = Number(id.split('-', 1)[0]);
  return Number.isFinite(ms) ? ms : 0;
}

/** `spoolDir`, else `ROBOTRACE_SPOOL_DIR`, else `$ROBOTRACE_HOME/spool`, else `~/.robotrace/spool`. */
export function spoolRoot(explicit: string | undefined, env: Env): string {
  if (explicit) return explicit;
  if (env.ROBOTRACE_SPOOL_DIR) return env.ROBOTRACE_SPOOL_DIR;
  return join(env.ROBOTRACE_HOME || join(homedir(), '.robotrace'), 'spool');
}

export function recordToJson(record: SpoolRecord, createdBy: string): unknown {
  return {
    format: SPOOL_FORMAT,
    id: record.id,
    created_at: record.createdAt,
    created_by: createdBy,
    create: { idempotency_key: record.createKey, body: record.createBody },
    finalize: { idempotency_key: record.finalizeKey, body: record.finalizeBody },
    files: record.files,
  };
}

/** The record in a record.json's text; a CorruptRecordError saying what is wrong otherwise. */
export function parseRecord(text: string): SpoolRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CorruptRecordError(`record.json is not JSON (${(error as Error).message})`);
  }
  const bad = (why: string): never => {
    throw new CorruptRecordError(`not a format-${SPOOL_FORMAT} spool record (${why})`);
  };
  if (!isObject(raw) || raw.format !== SPOOL_FORMAT) return bad(`format is not ${SPOOL_FORMAT}`);
  const create = raw.create;
  const finalize = raw.finalize;
  if (!isObject(create) || !isObject(finalize) || !Array.isArray(raw.files)) return bad('missing parts');
  const texts = [
    raw.id,
    raw.created_at,
    create.idempotency_key,
    create.body,
    finalize.idempotency_key,
    finalize.body,
  ];
  if (!texts.every((v) => typeof v === 'string' && v.length > 0)) return bad('an empty id, key or body');
  const files = raw.files.map((f: unknown): SpoolFile => {
    if (
      !isObject(f) ||
      !ARTIFACT_KINDS.includes(f.kind as ArtifactKind) ||
      typeof f.size !== 'number' ||
      f.size < 0 ||
      typeof f.source !== 'string'
    )
      return bad('a file entry of an unknown kind or size');
    return { kind: f.kind as ArtifactKind, name: String(f.name), size: f.size, source: f.source };
  });
  const [id, createdAt, createKey, createBody, finalizeKey, finalizeBody] = texts as string[];
  return {
    id: id as string,
    createdAt: createdAt as string,
    createKey: createKey as string,
    createBody: createBody as string,
    finalizeKey: finalizeKey as string,
    finalizeBody: finalizeBody as string,
    files,
  };
}

export function recordSize(record: SpoolRecord): number {
  return record.files.reduce((sum, f) => sum + f.size, 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
