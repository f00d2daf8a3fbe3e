import {
  completeMultipartUpload,
  getMultipartUpload,
  signMultipartParts,
  startMultipartUpload,
  uploadPart,
} from '@robotrace/contracts';
import {
  AppError,
  completeMultipart,
  ForbiddenError,
  getMultipart,
  NotFoundError,
  signMultipartParts as signParts,
  startMultipart,
} from '@robotrace/core';
import { IntegrityError, type LocalDiskStore } from '@robotrace/storage';
import { type BoundRoute, bindRoute } from '../http/api-route.js';
import type { HttpContext } from '../http/context.js';
import { sendJson } from '../http/respond.js';
import type { Services } from '../services.js';
import { indexUploadedTracks } from './tracks.js';

/**
 * Resumable uploads of large files (issue 18): start, resume (which parts are acknowledged), signed part
 * URLs, complete with the whole file's SHA-256 checked. With local storage the app also serves the part PUTs.
 */
export function uploadRoutes(s: Services): BoundRoute[] {
  const routes = [
    bindRoute(startMultipartUpload, async ({ scope, params, body }) => ({
      status: 201,
      body: await startMultipart(s.core, scope, params.episode_id, body),
    })),
    bindRoute(getMultipartUpload, async ({ scope, params }) => ({
      status: 200,
      body: await getMultipart(s.core, scope, params.episode_id, params.upload_id),
    })),
    bindRoute(signMultipartParts, async ({ ctx, scope, params, body }) => ({
      status: 200,
      body: await signParts(
        s.core,
        scope,
        params.episode_id,
        params.upload_id,
        'parts' in body ? body.parts.map((p) => p.part_number) : body.part_numbers,
        ctx,
        'parts' in body ? body.parts.map((p) => p.sha256) : undefined,
      ),
    })),
    bindRoute(completeMultipartUpload, async ({ ctx, scope, params, body }) => {
      const stored = await completeMultipart(s.core, scope, params.episode_id, params.upload_id, body);
      // Resent bytes are what a resume is for: the operator (and the resume test) read them here.
      s.log.info('multipart upload stored', {
        episode_id: params.episode_id,
        kind: stored.kind,
        size_bytes: stored.size_bytes,
        bytes_received: stored.bytes_received,
        request_id: ctx.requestId,
      });
      // The assembled file is the artifact now: index it like a single-PUT upload (never failing the complete).
      await indexUploadedTracks(s, `${scope.projectId}/${params.episode_id.toLowerCase()}/${stored.kind}`);
      return { status: 200, body: stored };
    }),
  ];
  if (s.localStore) routes.push(partRoute(s.localStore));
  return routes;
}

/** `PUT /api/storage-parts/<upload>/<n>`: one part to the local store, authorized by the URL's signature. */
function partRoute(store: LocalDiskStore): BoundRoute {
  return bindRoute(uploadPart, async ({ ctx, params, query }) => {
    const id = params.store_upload_id;
    const sha256 = query.sha256 ?? null;
    const check = store.multipart.check(id, params.part_number, Number(query.exp), query.sig ?? '', sha256);
    if (check === 'invalid')
      throw new ForbiddenError('Invalid signature: use the URL exactly as the API returned it');
    if (check === 'expired')
      throw new ForbiddenError('This signed URL has expired: request a new one from the API', 'url_expired');
    const stored = await receive(ctx, store, id, params.part_number, sha256);
    ctx.res.setHeader('ETag', `"${stored.etag}"`);
    sendJson(ctx.res, 200, {
      status: 'stored',
      part_number: params.part_number,
      size_bytes: stored.size,
      etag: stored.etag,
    });
    return undefined;
  });
}

async function receive(
  ctx: HttpContext,
  store: LocalDiskStore,
  id: string,
  n: number,
  sha256: string | null,
) {
  const length = ctx.req.headers['content-length'] ? Number(ctx.req.headers['content-length']) : null;
  let stored: { etag: string; size: number } | null;
  try {
    stored = await store.multipart.receivePart(id, n, ctx.req, length, sha256);
  } catch (err) {
    // Bytes that are not the part (too many, too few, another SHA-256): the client is still there to be told.
    if (err instanceof IntegrityError)
      throw new AppError(400, 'validation_error', `Part not stored: ${err.message}`);
    if (ctx.req.destroyed) throw err; // the client went away mid-part: nothing to answer
    throw new AppError(400, 'validation_error', `Part not stored: ${(err as Error).message}`);
  }
  if (!stored) throw new NotFoundError('No such upload (completed, aborted or expired)');
  return stored;
}
