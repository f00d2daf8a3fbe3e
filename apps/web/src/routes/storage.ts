import type { IncomingMessage } from 'node:http';
import { apiRoutes } from '@robotrace/contracts';
import {
  AppError,
  ForbiddenError,
  InsufficientStorageError,
  NotFoundError,
  openUploadSlot,
  PayloadTooLargeError,
  recordUpload,
  UnavailableError,
} from '@robotrace/core';
import {
  type LocalDiskStore,
  type ReceivedUpload,
  StorageFullError,
  UploadLengthError,
  UploadTooLargeError,
} from '@robotrace/storage';
import { type BoundRoute, bindRoute } from '../http/api-route.js';
import type { HttpContext } from '../http/context.js';
import { parseRange } from '../http/range.js';
import { sendJson } from '../http/respond.js';
import type { Services } from '../services.js';
import { indexUploadedTracks } from './tracks.js';

/** Reads and checks the signature of a local storage URL; the key is the URL path after /api/storage/. */
function signedRequest(ctx: HttpContext, store: LocalDiskStore, op: 'put' | 'get') {
  const p = ctx.url.searchParams;
  const key = ctx.params.key ?? '';
  const req = {
    key,
    op,
    expiresAtS: Number(p.get('exp')),
    contentType: p.get('ct') ?? '',
    signature: p.get('sig') ?? '',
  };
  if (p.get('op') !== op) throw new ForbiddenError(`This signed URL is not valid for ${op.toUpperCase()}`);
  const check = store.check(req);
  if (check === 'invalid')
    throw new ForbiddenError('Invalid signature: use the URL exactly as the API returned it');
  if (check === 'expired')
    throw new ForbiddenError('This signed URL has expired: request a new one from the API', 'url_expired');
  return req;
}

/** How much of a refused upload's remaining body is read and dropped so the client gets to see the answer. */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
const DISCARD_MAX_MS = 15_000;

/**
 * After a write failed part-way (disk full, over the limit): read and drop the rest of the body before
 * answering. A client is still sending; closing on it resets the connection, and it never reads the 507/413
 * (HTTP clients such as httpx read the answer only once the body is sent). Bounded: past the bytes or the
 * time the connection is closed instead.
 */
function discardRest(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      req.off('data', onData);
      resolve();
    };
    const giveUp = () => {
      req.destroy();
      done();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_MAX_BYTES) giveUp();
    };
    const timer = setTimeout(giveUp, DISCARD_MAX_MS);
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.resume();
  });
}

/** Signed upload/download URLs of the local disk store, served by the app (S3 serves its own). */
/** The byte limit of one artifact kind: ROBOTRACE_MAX_UPLOAD_BYTES_<KIND>, else ROBOTRACE_MAX_UPLOAD_BYTES. */
export function maxUploadBytes(s: Services, key: string): number {
  const kind = key.split('/').at(-1);
  const perKind =
    kind === 'video'
      ? s.env.ROBOTRACE_MAX_UPLOAD_BYTES_VIDEO
      : kind === 'sensors'
        ? s.env.ROBOTRACE_MAX_UPLOAD_BYTES_SENSORS
        : s.env.ROBOTRACE_MAX_UPLOAD_BYTES_ACTIONS;
  return perKind ?? s.env.ROBOTRACE_MAX_UPLOAD_BYTES;
}

export function storageRoutes(s: Services, store: LocalDiskStore): BoundRoute[] {
  let uploading = 0;

  const upload = bindRoute(apiRoutes.uploadArtifact, async ({ ctx }) => {
    const signed = signedRequest(ctx, store, 'put');
    // Bounded upload slots: past them, answer 503 at once rather than pile up slow writes.
    if (uploading >= s.env.ROBOTRACE_MAX_CONCURRENT_UPLOADS)
      throw new UnavailableError('All upload slots are busy; retry shortly', 1);
    uploading++;
    try {
      await storeUpload(ctx, signed);
    } finally {
      uploading--;
    }
    return undefined;
  });

  async function storeUpload(ctx: HttpContext, signed: ReturnType<typeof signedRequest>): Promise<void> {
    const given = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (given !== signed.contentType)
      throw new AppError(
        415,
        'validation_error',
        `Content-Type must be ${signed.contentType} for this upload (got "${given || 'none'}")`,
      );
    const max = maxUploadBytes(s, signed.key);
    const length = ctx.req.headers['content-length'] ? Number(ctx.req.headers['content-length']) : null;
    if (length !== null && length > max)
      throw new PayloadTooLargeError(`Upload is ${length} bytes; the limit is ${max} bytes`, { limit: max });
    // 404 for a slot never handed out, 409 once its episode is finalized: before a byte is read.
    await openUploadSlot(s.core, signed.key);
    let upload: ReceivedUpload;
    try {
      // Size limit and announced length are both checked on the temp file, before anything is in place.
      upload = await store.receive(ctx.req, { maxBytes: max, expectedBytes: length });
    } catch (err) {
      await discardRest(ctx.req);
      if (err instanceof UploadTooLargeError)
        throw new PayloadTooLargeError(`Upload exceeds the limit of ${max} bytes`, { limit: max });
      if (err instanceof StorageFullError)
        throw new InsufficientStorageError('The artifact disk is full; nothing was stored');
      if (err instanceof UploadLengthError)
        throw new AppError(
          400,
          'validation_error',
          `Upload was cut short: got ${err.received} of ${err.expected} bytes; nothing was stored`,
        );
      throw err;
    }
    try {
      // Placed only under the episode's lock, and only while it still records (a finalize meanwhile: 409).
      await recordUpload(s.core, signed.key, { size: upload.size, contentType: signed.contentType }, () =>
        store.place(upload, signed.key, signed.contentType),
      );
    } finally {
      await store.discard(upload);
    }
    // Sensors/actions become replay tracks once here; a bad file is warnings in the list, never a failed upload.
    await indexUploadedTracks(s, signed.key);
    sendJson(ctx.res, 200, { status: 'stored', size_bytes: upload.size });
  }

  const download = bindRoute(apiRoutes.downloadArtifact, async ({ ctx }) => {
    const signed = signedRequest(ctx, store, 'get');
    const obj = await store.stat(signed.key);
    if (!obj) throw new NotFoundError('Artifact not found');
    const range = parseRange(ctx.req.headers.range, obj.size);
    const headers: Record<string, string | number> = {
      'content-type': signed.contentType,
      'accept-ranges': 'bytes',
      'cache-control': 'private, max-age=60',
      'x-content-type-options': 'nosniff',
      'content-disposition': 'inline',
    };
    if (range === 'invalid') {
      ctx.res.writeHead(416, { 'content-range': `bytes */${obj.size}` });
      ctx.res.end();
      return undefined;
    }
    const { start, end } = range ?? { start: 0, end: obj.size - 1 };
    if (range) headers['content-range'] = `bytes ${start}-${end}/${obj.size}`;
    headers['content-length'] = obj.size === 0 ? 0 : end - start + 1;
    ctx.res.writeHead(range ? 206 : 200, headers);
    if (ctx.req.method === 'HEAD' || obj.size === 0) {
      ctx.res.end();
      return undefined;
    }
    const stream = store.read(signed.key, { start, end });
    stream.on('error', () => ctx.res.destroy());
    stream.pipe(ctx.res);
  });

  return [upload, download];
}
