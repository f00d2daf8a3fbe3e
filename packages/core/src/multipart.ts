import {
  type ArtifactKind,
  type CompleteMultipartRequest,
  MAX_PART_BYTES,
  MIN_PART_BYTES,
  type MultipartUpload,
  type PartUrls,
  type StartMultipartRequest,
} from '@robotrace/contracts';
import { artifact, episode } from '@robotrace/db';
import { IntegrityError, type MultipartStore } from '@robotrace/storage';
import { and, eq } from 'drizzle-orm';
import type { CoreDeps, ProjectScope, RequestContext } from './deps.js';
import { UPLOAD_CONTENT_TYPE } from './episodes.js';
import { AppError, NotFoundError, PayloadTooLargeError } from './errors.js';
import { isUuid } from './ids.js';
import { recordUpload, uploadsClosed } from './uploads.js';

/**
 * Resumable uploads of large files (issue 18). The upload id the client holds carries the episode, the slot,
 * the store's own upload id and the announced size, SHA-256 and part size, so nothing is kept in the database
 * until the upload completes. It needs no signature: the slot's storage key always comes from the database
 * (the caller's project, a recording episode), the store refuses an upload id of another key, and the size
 * and hash are the caller's own claims, checked against the stored bytes (and the size limit) at complete.
 * Two ways to check (spec/SPOOL.md): the whole file's SHA-256 announced at start, hashed over the assembled
 * bytes by the store; or part checksums (no SHA-256 at start, `c`): each part URL is signed with the part's
 * SHA-256, which the store checks, and complete declares the whole file's SHA-256 with the part hashes — the
 * client then hashes while it sends, and S3 needs no read-back.
 */
const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;

interface UploadToken {
  e: string;
  k: ArtifactKind;
  u: string;
  n: number;
  h: string;
  p: number;
  /** 1: part checksums (each part signed with its SHA-256; `h` is empty until complete declares it). */
  c?: 1;
}

function encodeToken(token: UploadToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** The upload id's content, or a 404 when it is not an upload of this episode. */
function decodeToken(episodeId: string, uploadId: string): UploadToken {
  let token: UploadToken;
  try {
    token = JSON.parse(Buffer.from(uploadId, 'base64url').toString('utf8')) as UploadToken;
  } catch {
    throw new NotFoundError('No such upload');
  }
  const ok =
    typeof token === 'object' &&
    token !== null &&
    token.e === episodeId.toLowerCase() &&
    ['video', 'sensors', 'actions'].includes(token.k) &&
    typeof token.u === 'string' &&
    Number.isSafeInteger(token.n) &&
    token.n > 0 &&
    Number.isSafeInteger(token.p) &&
    token.p >= MIN_PART_BYTES &&
    typeof token.h === 'string';
  if (!ok) throw new NotFoundError('No such upload');
  return token;
}

function multipartOf(deps: CoreDeps): MultipartStore {
  const store = deps.store.multipart;
  if (!store) throw new NotFoundError('This server’s storage has no resumable uploads');
  return store;
}

/** The slot's storage key, once the episode is the caller's and still recording. */
async function openSlot(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  kind: ArtifactKind,
): Promise<string> {
  if (!isUuid(episodeId)) throw new NotFoundError('Episode not found');
  const [row] = await deps.db
    .select({ status: episode.status, key: artifact.storageKey })
    .from(episode)
    .leftJoin(artifact, and(eq(artifact.episodeId, episode.id), eq(artifact.kind, kind)))
    .where(and(eq(episode.id, episodeId.toLowerCase()), eq(episode.projectId, scope.projectId)));
  if (!row) throw new NotFoundError('Episode not found');
  if (row.status !== 'recording') throw uploadsClosed(row.status);
  if (!row.key) throw new NotFoundError(`Episode has no ${kind} upload slot (request it at create)`);
  return row.key;
}

function partCount(token: UploadToken): number {
  return Math.max(1, Math.ceil(token.n / token.p));
}

function partSize(size: number, asked: number | undefined): number {
  const wanted = asked ?? DEFAULT_PART_BYTES;
  return Math.min(MAX_PART_BYTES, Math.max(MIN_PART_BYTES, wanted, Math.ceil(size / MAX_PARTS)));
}

async function describe(
  deps: CoreDeps,
  uploadId: string,
  token: UploadToken,
  key: string,
): Promise<MultipartUpload> {
  const store = multipartOf(deps);
  const parts = await store.listParts(key, token.u);
  if (!parts) throw new NotFoundError('No such upload (completed, aborted or expired)');
  return {
    upload_id: uploadId,
    kind: token.k,
    size_bytes: token.n,
    sha256: token.h || null,
    part_checksums: token.c === 1,
    part_size_bytes: token.p,
    part_count: partCount(token),
    parts: parts.map((p) => ({ part_number: p.partNumber, size_bytes: p.size, etag: p.etag })),
    bytes_received: await store.bytesReceived(token.u),
  };
}

export async function startMultipart(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  body: StartMultipartRequest,
): Promise<MultipartUpload> {
  const key = await openSlot(deps, scope, episodeId, body.kind);
  const limit = deps.limits.maxUploadBytes?.(body.kind);
  if (limit !== undefined && body.size_bytes > limit)
    throw new PayloadTooLargeError(`Upload is ${body.size_bytes} bytes; the limit is ${limit} bytes`, {
      limit,
    });
  const p = partSize(body.size_bytes, body.part_size_bytes);
  const partChecksums = body.sha256 === undefined;
  const u = await multipartOf(deps).start(key, {
    contentType: UPLOAD_CONTENT_TYPE[body.kind],
    partSizeBytes: p,
    partChecksums,
  });
  const token: UploadToken = {
    e: episodeId.toLowerCase(),
    k: body.kind,
    u,
    n: body.size_bytes,
    h: body.sha256 ?? '',
    p,
    ...(partChecksums ? { c: 1 as const } : {}),
  };
  return describe(deps, encodeToken(token), token, key);
}

export async function getMultipart(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  uploadId: string,
): Promise<MultipartUpload> {
  const token = decodeToken(episodeId, uploadId);
  return describe(deps, uploadId, token, await openSlot(deps, scope, episodeId, token.k));
}

export async function signMultipartParts(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  uploadId: string,
  partNumbers: number[],
  ctx: RequestContext,
  partSha256?: string[] | undefined,
): Promise<PartUrls> {
  const token = decodeToken(episodeId, uploadId);
  const key = await openSlot(deps, scope, episodeId, token.k);
  const count = partCount(token);
  const bad = partNumbers.filter((n) => n > count);
  if (bad.length > 0)
    throw new AppError(400, 'validation_error', `This upload has parts 1 to ${count}`, { part_numbers: bad });
  if ((token.c === 1) !== (partSha256 !== undefined))
    throw new AppError(
      400,
      'validation_error',
      token.c === 1
        ? 'This upload uses part checksums: send parts [{part_number, sha256}]'
        : 'This upload was started with the whole file’s SHA-256: send part_numbers, no part hashes',
    );
  const store = multipartOf(deps);
  const urls = [];
  for (const [i, n] of partNumbers.entries()) {
    const signed = await store
      .signPart(key, token.u, n, {
        expiresInS: deps.limits.uploadUrlTtlS,
        baseUrl: ctx.baseUrl,
        sha256: partSha256?.[i],
      })
      .catch((err: unknown) => {
        throw err instanceof IntegrityError ? new NotFoundError('No such upload') : err;
      });
    urls.push({
      part_number: n,
      url: signed.url,
      expires_at: signed.expiresAt.toISOString(),
      headers: signed.headers,
    });
  }
  return { urls };
}

/** The whole file's SHA-256 (announced at start, or declared now with every part's under part checksums). */
function declaredHashes(
  token: UploadToken,
  body: CompleteMultipartRequest,
): { sha256: string; parts?: string[] } {
  if (token.c !== 1) return { sha256: token.h };
  const parts = body.parts.map((p) => p.sha256);
  if (!body.sha256 || parts.some((h) => h === undefined))
    throw new AppError(
      400,
      'validation_error',
      'This upload uses part checksums: send sha256 (the whole file) and each part’s sha256',
    );
  return { sha256: body.sha256, parts: parts as string[] };
}

/**
 * Assembles the parts and checks the whole file's size and SHA-256 against what was announced at start (422
 * and nothing kept on a mismatch: start again); then records the artifact like a single PUT, under the
 * episode's lock (a finalize meanwhile: 409, and the assembled object is dropped).
 */
export async function completeMultipart(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  uploadId: string,
  body: CompleteMultipartRequest,
): Promise<{
  status: 'stored';
  kind: ArtifactKind;
  size_bytes: number;
  sha256: string;
  bytes_received: number | null;
}> {
  const token = decodeToken(episodeId, uploadId);
  const key = await openSlot(deps, scope, episodeId, token.k);
  const contentType = UPLOAD_CONTENT_TYPE[token.k];
  const limit = deps.limits.maxUploadBytes?.(token.k);
  if (limit !== undefined && token.n > limit)
    throw new PayloadTooLargeError(`Upload is ${token.n} bytes; the limit is ${limit} bytes`, { limit });
  const parts = body.parts.map((p) => ({ partNumber: p.part_number, etag: p.etag }));
  const count = partCount(token);
  if (parts.length !== count)
    throw new AppError(422, 'validation_error', `This upload has ${count} parts; ${parts.length} were sent`);
  const declared = declaredHashes(token, body);
  let assembled: Awaited<ReturnType<MultipartStore['assemble']>>;
  try {
    assembled = await multipartOf(deps).assemble(key, token.u, parts, {
      size: token.n,
      sha256: declared.sha256,
      contentType,
      partSizeBytes: token.p,
      partSha256: declared.parts,
    });
  } catch (err) {
    if (err instanceof IntegrityError) throw new AppError(422, 'validation_error', err.message);
    throw err;
  }
  const received = await multipartOf(deps).bytesReceived(token.u); // before the commit drops the parts
  try {
    await recordUpload(deps, key, { size: assembled.size, contentType }, () => assembled.commit());
  } catch (err) {
    await assembled.discard().catch(() => undefined);
    throw err;
  }
  return {
    status: 'stored',
    kind: token.k,
    size_bytes: assembled.size,
    sha256: assembled.sha256,
    bytes_received: received,
  };
}
