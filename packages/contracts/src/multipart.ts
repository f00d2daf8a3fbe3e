import { z } from 'zod';
import { ArtifactKind } from './common.js';
import { defineRoute } from './route.js';

/**
 * Resumable uploads of large files (issue 18, ours): start a multipart upload for one slot, PUT each part to
 * its signed URL (S3 multipart, or the local store's equivalent), ask which parts are acknowledged after an
 * interruption, complete with the part list. Integrity, either way checked at complete: the whole file's
 * SHA-256 announced at start (the server hashes the assembled bytes), or part checksums — `sha256` left out at
 * start, each part's SHA-256 signed into its URL (the store refuses other bytes), the whole file's SHA-256
 * declared at complete with the part hashes (spec/SPOOL.md says exactly what is verified). The official
 * SDK's single PUT keeps working unchanged.
 */
const EpisodeIdParams = z.object({ episode_id: z.guid() });
const UploadParams = EpisodeIdParams.extend({ upload_id: z.string().min(1).max(2000) });
const partNumber = z.number().int().min(1).max(10_000);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');

export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;

export const StartMultipartRequest = z
  .object({
    kind: ArtifactKind,
    size_bytes: z.number().int().positive(),
    sha256: sha256
      .optional()
      .describe(
        'The whole file; left out, the upload uses part checksums (each part signed with its SHA-256)',
      ),
    part_size_bytes: z
      .number()
      .int()
      .min(MIN_PART_BYTES)
      .max(MAX_PART_BYTES)
      .optional()
      .describe('Default 8 MiB; raised so a file needs at most 10 000 parts'),
  })
  .meta({ id: 'StartMultipartRequest' });
export type StartMultipartRequest = z.infer<typeof StartMultipartRequest>;

export const MultipartPart = z.object({
  part_number: partNumber,
  size_bytes: z.number().int().nonnegative(),
  etag: z.string(),
});

export const MultipartUpload = z
  .object({
    upload_id: z.string(),
    kind: ArtifactKind,
    size_bytes: z.number().int(),
    sha256: z.string().nullable().describe('As announced at start; null with part checksums'),
    part_checksums: z.boolean().describe('Each part URL must be asked for with the part’s SHA-256'),
    part_size_bytes: z.number().int(),
    part_count: z.number().int(),
    parts: z.array(MultipartPart).describe('The parts the store has acknowledged, by part number'),
    bytes_received: z
      .number()
      .int()
      .nullable()
      .describe('Bytes the server received for this upload, resent parts included (local store; S3: null)'),
  })
  .meta({ id: 'MultipartUpload' });
export type MultipartUpload = z.infer<typeof MultipartUpload>;

/**
 * Two shapes, so the schema states the whole rule (no relation between two fields for a client to get wrong):
 * the part numbers alone, or — an upload with part checksums — each part number with the SHA-256 of its bytes.
 */
export const PartUrlsRequest = z
  .union([
    z.strictObject({ part_numbers: z.array(partNumber).min(1).max(1000) }),
    z.strictObject({
      parts: z
        .array(z.object({ part_number: partNumber, sha256 }))
        .min(1)
        .max(1000)
        .describe('With part checksums: each part to sign, with the SHA-256 of its bytes'),
    }),
  ])
  .meta({ id: 'PartUrlsRequest' });

export const PartUrls = z
  .object({
    urls: z.array(
      z.object({
        part_number: partNumber,
        url: z.string(),
        expires_at: z.string(),
        headers: z
          .record(z.string(), z.string())
          .describe('Headers the PUT must carry as given (S3: the signed x-amz-checksum-sha256)'),
      }),
    ),
  })
  .meta({ id: 'PartUrls' });
export type PartUrls = z.infer<typeof PartUrls>;

export const CompleteMultipartRequest = z
  .object({
    parts: z
      .array(
        z.object({
          part_number: partNumber,
          etag: z.string().min(1).max(200),
          sha256: sha256.optional().describe('With part checksums: this part’s SHA-256'),
        }),
      )
      .min(1),
    sha256: sha256.optional().describe('With part checksums: the whole file’s SHA-256'),
  })
  .meta({ id: 'CompleteMultipartRequest' });
export type CompleteMultipartRequest = z.infer<typeof CompleteMultipartRequest>;

export const CompleteMultipartResponse = z
  .object({
    status: z.literal('stored'),
    kind: ArtifactKind,
    size_bytes: z.number().int(),
    sha256: z.string(),
    bytes_received: z
      .number()
      .int()
      .nullable()
      .describe('Bytes the server received for this upload, resent parts included (local store; S3: null)'),
  })
  .meta({ id: 'CompleteMultipartResponse' });

export const PartStoredResponse = z
  .object({
    status: z.literal('stored'),
    part_number: partNumber,
    size_bytes: z.number().int(),
    etag: z.string(),
  })
  .meta({ id: 'PartStored' });

export const startMultipartUpload = defineRoute({
  operationId: 'startMultipartUpload',
  method: 'POST',
  path: '/api/ingest/episode/{episode_id}/uploads',
  auth: 'apiKey',
  summary: 'Start a resumable (multipart) upload of one slot of a recording episode',
  params: EpisodeIdParams,
  body: StartMultipartRequest,
  responses: { 201: { description: 'The upload, no part acknowledged yet', schema: MultipartUpload } },
  errors: [404, 409],
});

export const getMultipartUpload = defineRoute({
  operationId: 'getMultipartUpload',
  method: 'GET',
  path: '/api/ingest/episode/{episode_id}/uploads/{upload_id}',
  auth: 'apiKey',
  summary: 'A multipart upload and the parts acknowledged so far (to resume after an interruption)',
  params: UploadParams,
  responses: { 200: { description: 'The upload', schema: MultipartUpload } },
  errors: [404, 409],
});

export const signMultipartParts = defineRoute({
  operationId: 'signMultipartParts',
  method: 'POST',
  path: '/api/ingest/episode/{episode_id}/uploads/{upload_id}/parts',
  auth: 'apiKey',
  summary: 'Signed PUT URLs for parts of a multipart upload',
  params: UploadParams,
  body: PartUrlsRequest,
  responses: { 200: { description: 'One signed URL per part', schema: PartUrls } },
  errors: [404, 409],
});

export const completeMultipartUpload = defineRoute({
  operationId: 'completeMultipartUpload',
  method: 'POST',
  path: '/api/ingest/episode/{episode_id}/uploads/{upload_id}/complete',
  auth: 'apiKey',
  summary: "Assemble the parts into the slot's artifact; the whole file's size and SHA-256 are checked",
  params: UploadParams,
  body: CompleteMultipartRequest,
  responses: { 200: { description: 'Stored', schema: CompleteMultipartResponse } },
  errors: [404, 409, 422],
});

export const uploadPart = defineRoute({
  operationId: 'uploadPart',
  method: 'PUT',
  path: '/api/storage-parts/{store_upload_id}/{part_number}',
  auth: 'signedUrl',
  summary: 'Upload one part of a multipart upload to a signed URL (the local store; S3 serves its own)',
  description: 'Served by the app only when artifacts live on the local disk (S3 serves its own URLs).',
  params: z.object({ store_upload_id: z.string(), part_number: z.coerce.number().int().min(1).max(10_000) }),
  query: z.object({ exp: z.string().optional(), sig: z.string().optional(), sha256: z.string().optional() }),
  rawBody: { contentTypes: ['application/octet-stream'], description: 'The bytes of this part' },
  responses: { 200: { description: 'Stored; the ETag header names the part', schema: PartStoredResponse } },
  errors: [400, 403, 404, 413],
});
