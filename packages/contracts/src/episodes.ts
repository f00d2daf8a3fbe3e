import { z } from 'zod';
import { ArtifactKind, EpisodeSource, EpisodeStatus } from './common.js';
import { OtelBlock } from './otel.js';

const shortText = (max: number) => z.string().max(max);
const seconds = z.number().finite().nonnegative();

/** Free-form metadata; values may be typed objects with a `__type` key, stored as given. */
export const Metadata = z.record(z.string(), z.unknown());
export type Metadata = z.infer<typeof Metadata>;

/** Largest serialized metadata object we accept on create or finalize. */
export const MAX_METADATA_BYTES = 1024 * 1024;

export const CreateEpisodeRequest = z
  .object({
    // The SDKs always send it; `{}` is a valid create body (a metadata-only run), recorded as "real".
    source: EpisodeSource.default('real'),
    request_uploads: z.array(ArtifactKind).max(3).nullish(),
    // The documented create limits (OFFICIAL_PILLARS.md): name ≤ 200, robot ≤ 120.
    name: shortText(200).nullish(),
    robot: shortText(120).nullish(),
    policy_version: shortText(200).nullish(),
    env_version: shortText(200).nullish(),
    git_sha: shortText(100).nullish(),
    seed: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).nullish(),
    fps: z.number().finite().nonnegative().nullish(),
    metadata: Metadata.nullish(),
    otel: z.unknown().optional().describe('W3C trace context of the active span; see TRACE_CONTEXT.md'),
    started_at_unix_ns: z
      .string()
      .regex(/^[1-9]\d{0,18}$/, 'must be Unix nanoseconds as a decimal string')
      .nullish()
      .describe(
        "Ours (optional): the episode's start on the sending machine's clock, Unix ns as a decimal string; the span lane aligns spans on it",
      ),
  })
  .meta({ id: 'CreateEpisodeRequest' });
export type CreateEpisodeRequest = z.infer<typeof CreateEpisodeRequest>;

export const UploadUrl = z
  .object({
    kind: ArtifactKind,
    url: z.string(),
    expires_at: z.string(),
    public_url: z.string().nullish(),
  })
  .meta({ id: 'UploadUrl' });
export type UploadUrl = z.infer<typeof UploadUrl>;

/** Ours: `POST /api/ingest/episode/{id}/upload-url` asks a fresh signed URL for one slot (the first expired). */
export const UploadUrlRequest = z.object({ kind: ArtifactKind }).meta({ id: 'UploadUrlRequest' });
export type UploadUrlRequest = z.infer<typeof UploadUrlRequest>;

export const CreateEpisodeResponse = z
  .object({
    episode_id: z.string(),
    status: EpisodeStatus,
    storage: z.string(),
    upload_urls: z.array(UploadUrl),
    portal_url: z.string(),
    warnings: z.array(z.string()),
  })
  .meta({ id: 'CreateEpisodeResponse' });
export type CreateEpisodeResponse = z.infer<typeof CreateEpisodeResponse>;

export const FinalizeEpisodeRequest = z
  .object({
    status: z.enum(['ready', 'failed']),
    duration_s: seconds.nullish(),
    fps: z.number().finite().nonnegative().nullish(),
    bytes_total: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullish(),
    failure_time_s: seconds.nullish(),
    metadata: Metadata.nullish(),
  })
  .meta({ id: 'FinalizeEpisodeRequest' });
export type FinalizeEpisodeRequest = z.infer<typeof FinalizeEpisodeRequest>;

export const Artifact = z
  .object({
    kind: ArtifactKind,
    uploaded: z.boolean(),
    size_bytes: z.number().nullable(),
    content_type: z.string().nullable(),
    url: z.string().describe('API path that redirects to a short-lived signed download URL'),
  })
  .meta({ id: 'Artifact' });
export type Artifact = z.infer<typeof Artifact>;

export const Episode = z
  .object({
    id: z.string(),
    episode_id: z.string(),
    name: z.string().nullable(),
    source: EpisodeSource,
    status: EpisodeStatus,
    robot: z.string().nullable(),
    policy_version: z.string().nullable(),
    env_version: z.string().nullable(),
    git_sha: z.string().nullable(),
    seed: z.number().nullable(),
    fps: z.number().nullable(),
    duration_s: z.number().nullable(),
    failure_time_s: z.number().nullable(),
    bytes_total: z.number().nullable(),
    metadata: Metadata,
    otel: OtelBlock.nullable(),
    artifacts: z.array(Artifact),
    created_at: z.string(),
    finalized_at: z.string().nullable(),
    portal_url: z.string(),
  })
  .meta({ id: 'Episode' });
export type Episode = z.infer<typeof Episode>;

export const FinalizeEpisodeResponse = Episode.extend({}).meta({ id: 'FinalizeEpisodeResponse' });
export type FinalizeEpisodeResponse = z.infer<typeof FinalizeEpisodeResponse>;

export const ListEpisodesQuery = z
  .object({
    trace_id: z.string().max(2000).optional(),
    span_id: z.string().max(200).optional(),
    q: z.string().max(2000).optional(),
    status: EpisodeStatus.optional(),
    source: EpisodeSource.optional(),
    policy_version: z.string().max(200).optional(),
    robot: z.string().max(200).optional(),
    created_after: z.iso.datetime({ offset: true }).optional(),
    created_before: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .max(200)
      .optional()
      .describe(
        'Opaque: the `next_cursor` of the previous page, exactly as returned (anything else is a 400)',
      ),
  })
  .meta({ id: 'ListEpisodesQuery' });
export type ListEpisodesQuery = z.infer<typeof ListEpisodesQuery>;

export const ListEpisodesResponse = z
  .object({
    data: z.array(Episode),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'ListEpisodesResponse' });
export type ListEpisodesResponse = z.infer<typeof ListEpisodesResponse>;

export const HealthResponse = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
