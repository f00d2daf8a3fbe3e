import { z } from 'zod';

/** Where an episode came from. */
export const EpisodeSource = z.enum(['real', 'sim', 'replay']);
export type EpisodeSource = z.infer<typeof EpisodeSource>;

/** The artifact slots an episode can carry; each has one signed upload URL. */
export const ArtifactKind = z.enum(['video', 'sensors', 'actions']);
export type ArtifactKind = z.infer<typeof ArtifactKind>;

export const EpisodeStatus = z.enum(['recording', 'ready', 'failed']);
export type EpisodeStatus = z.infer<typeof EpisodeStatus>;

/** Stable machine-readable error codes; `error` stays a human string for the official SDK. */
export const ErrorCode = z.enum([
  'validation_error',
  'invalid_json',
  'payload_too_large',
  'unsupported_media_type',
  'method_not_allowed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  // 409 of DELETE /api/episodes/{id}: an eval run or a verification scenario references the episode.
  'episode_referenced',
  'rate_limited',
  'unavailable',
  'insufficient_storage',
  'url_expired',
  'internal_error',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The one error body every endpoint answers with. */
export const ErrorBody = z
  .object({
    error: z.string().describe('Human-readable message; the official SDK shows this string.'),
    code: ErrorCode,
    details: z.unknown().optional(),
    request_id: z.string(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;
