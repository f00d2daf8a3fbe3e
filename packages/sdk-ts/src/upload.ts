import { createReadStream, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { contentTypeFor } from './artifacts.js';
import { errorAttempt, type FetchLike, withRetries } from './http/transport.js';
import { fail } from './validate.js';
import type { ArtifactKind } from './wire.js';

export interface UploadProgress {
  kind: ArtifactKind;
  path: string;
  /** Bytes handed to the connection so far. */
  sentBytes: number;
  totalBytes: number;
}

export type ProgressListener = (progress: UploadProgress) => void;

export interface UploadRequest {
  kind: ArtifactKind;
  path: string;
  url: string;
  fetch: FetchLike;
  /** Idle timeout: the attempt fails when no bytes moved for this long (never a whole-transfer deadline). */
  idleTimeoutMs: number;
  maxRetries: number;
  userAgent: string;
  onProgress?: ProgressListener | undefined;
}

/** A regular file's size, or an ArgumentError that names the argument (checked before any request is made). */
export async function fileSize(path: string, argument: string): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    fail(`${argument} file ${path} cannot be read (${code ?? (error as Error).message})`);
  }
  if (!info.isFile()) fail(`${argument} ${path} is not a regular file`);
  return info.size;
}

/** `fileSize` without the libuv pool: a background `logEpisode` must not queue behind the worker's disk work. */
export function fileSizeSync(path: string, argument: string): number {
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    fail(`${argument} file ${path} cannot be read (${code ?? (error as Error).message})`);
  }
  if (!info.isFile()) fail(`${argument} ${path} is not a regular file`);
  return info.size;
}

/**
 * PUTs a file to its signed URL, streamed from disk (never read whole into memory), with Content-Length and the
 * slot's content type, no Authorization (the URL authorizes) and no redirect following. Retried like API calls,
 * reopening the file for each attempt. An attempt lasts as long as bytes keep moving: each chunk the connection
 * pulls restarts the idle timer, so a slow link never fails and a stalled one fails after `idleTimeoutMs`.
 * Resolves with the number of bytes sent.
 */
export async function uploadFile(request: UploadRequest): Promise<number> {
  const size = await fileSize(request.path, request.kind);
  const options = {
    what: `upload ${request.kind}`,
    maxRetries: request.maxRetries,
    timeoutMs: request.idleTimeoutMs,
  };
  return withRetries(options, async ({ signal, progress }) => {
    const response = await request.fetch(request.url, {
      method: 'PUT',
      headers: {
        'Content-Type': contentTypeFor(request.kind),
        'Content-Length': String(size),
        'User-Agent': request.userAgent,
      },
      body: fileStream(request, size, progress),
      duplex: 'half',
      redirect: 'manual',
      signal,
    } as RequestInit);
    const text = await response.text().catch(() => '');
    if (response.status < 400) return { ok: true, value: size };
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Storage backends (S3 and friends) answer in XML or plain text; keep it as text.
    }
    return errorAttempt(response, body);
  });
}

/**
 * PUTs one part of a resumable upload (its bytes already in memory: read once, hashed, sent from there) to
 * its signed URL with the headers the URL was signed with, retried like any upload (a retry re-sends this
 * part only). Resolves with the part's ETag.
 */
export async function uploadPart(
  request: Omit<UploadRequest, 'onProgress' | 'path'> & {
    offset: number;
    bytes: Uint8Array;
    headers: Record<string, string>;
  },
): Promise<string> {
  const options = {
    what: `upload ${request.kind} part at byte ${request.offset}`,
    maxRetries: request.maxRetries,
    timeoutMs: request.idleTimeoutMs,
  };
  return withRetries(options, async ({ signal, progress }) => {
    const response = await request.fetch(request.url, {
      method: 'PUT',
      headers: {
        ...request.headers,
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(request.bytes.length),
        'User-Agent': request.userAgent,
      },
      body: chunked(request.bytes, progress),
      duplex: 'half',
      redirect: 'manual',
      signal,
    } as RequestInit);
    const text = await response.text().catch(() => '');
    if (response.status < 400)
      return { ok: true, value: (response.headers.get('etag') ?? '').replace(/"/g, '') };
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // S3 answers in XML.
    }
    return errorAttempt(response, parsed);
  });
}

/** The bytes as a stream of 256 KiB chunks, so the idle timer follows the connection pulling them. */
function chunked(bytes: Uint8Array, moved: () => void): ReadableStream<Uint8Array> {
  const CHUNK = 256 * 1024;
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      moved();
      controller.enqueue(bytes.subarray(at, Math.min(bytes.length, at + CHUNK)));
      at += CHUNK;
    },
  });
}

/** A web stream over the file that reports progress as the connection pulls bytes (so it follows the network). */
function fileStream(
  request: UploadRequest,
  totalBytes: number,
  moved: () => void,
): ReadableStream<Uint8Array> {
  const source = createReadStream(request.path, { highWaterMark: 256 * 1024 });
  const iterator = source[Symbol.asyncIterator]();
  let sentBytes = 0;
  const report = () =>
    request.onProgress?.({ kind: request.kind, path: request.path, sentBytes, totalBytes });
  report();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) {
        controller.close();
        return;
      }
      const chunk = next.value as Buffer;
      moved();
      sentBytes += chunk.length;
      controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      report();
    },
    cancel() {
      source.destroy();
    },
  });
}
