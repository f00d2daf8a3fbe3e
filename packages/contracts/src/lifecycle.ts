import { z } from 'zod';
import { ArtifactKind } from './common.js';
import { Episode, ListEpisodesQuery } from './episodes.js';
import { defineRoute } from './route.js';

/**
 * Data lifecycle (issue 20): delete an episode (its files, track index and insights with it), retention per
 * project swept in bounded batches, storage used, and an export of every field as JSON Lines.
 */

const EpisodeIdParams = z.object({ episode_id: z.guid() });

/** A query flag: only the two words, so a typo is a 400 rather than a silent "false". */
const flag = z.enum(['true', 'false']);

export const DeleteEpisodeQuery = z
  .object({
    unlink_references: flag
      .optional()
      .describe('true: remove the eval results and verification scenarios that reference the episode too'),
  })
  .meta({ id: 'DeleteEpisodeQuery' });
export type DeleteEpisodeQuery = z.infer<typeof DeleteEpisodeQuery>;

export const DeleteEpisodeResponse = z
  .object({
    episode_id: z.string(),
    deleted: z.literal(true),
    artifacts_deleted: z.number().int(),
    bytes_freed: z.number().int(),
    references_removed: z.object({ eval_results: z.number().int(), scenarios: z.number().int() }),
    pending_storage: z
      .boolean()
      .optional()
      .describe('true: the store refused to delete some files; the sweeper retries them'),
  })
  .meta({ id: 'DeleteEpisodeResponse' });
export type DeleteEpisodeResponse = z.infer<typeof DeleteEpisodeResponse>;

const NamedRef = z.object({ id: z.string(), name: z.string().nullable() });

/** `details` of a 409 `episode_referenced`. */
export const EpisodeReferences = z
  .object({ eval_runs: z.array(NamedRef), scenarios: z.array(NamedRef) })
  .meta({ id: 'EpisodeReferences' });
export type EpisodeReferences = z.infer<typeof EpisodeReferences>;

/** The export takes the list's filters, without paging: it streams every match. */
export const ExportEpisodesQuery = ListEpisodesQuery.omit({ limit: true, cursor: true }).meta({
  id: 'ExportEpisodesQuery',
});
export type ExportEpisodesQuery = z.infer<typeof ExportEpisodesQuery>;

export const ExportedArtifact = z.object({
  kind: ArtifactKind,
  url: z.string().describe('Absolute URL that redirects to a short-lived signed download (API key)'),
  bytes: z.number().int().nullable(),
  content_type: z.string().nullable(),
});

/** One line of the export: the episode exactly as GET /api/episodes/{id} answers it, with absolute artifact URLs. */
export const ExportedEpisode = Episode.omit({ artifacts: true })
  .extend({ artifacts: z.array(ExportedArtifact) })
  .meta({ id: 'ExportedEpisode' });
export type ExportedEpisode = z.infer<typeof ExportedEpisode>;

export const StorageUsage = z
  .object({
    project_id: z.string(),
    episodes: z.number().int(),
    artifacts: z.number().int(),
    bytes: z.number().int(),
    by_kind: z.array(z.object({ kind: ArtifactKind, artifacts: z.number().int(), bytes: z.number().int() })),
    largest: z.array(
      z.object({
        episode_id: z.string(),
        name: z.string().nullable(),
        bytes: z.number().int(),
        artifacts: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'StorageUsage' });
export type StorageUsage = z.infer<typeof StorageUsage>;

/** Days to keep: 1 day to 10 years; null keeps forever. */
export const RetentionDays = z.number().int().min(1).max(3650).nullable();

export const RetentionRequest = z
  .object({
    keep_days: RetentionDays.describe('Keep episodes this many days (null: forever)'),
    keep_failed_days: RetentionDays.describe(
      'Keep failed episodes this many days instead (null: as keep_days)',
    ),
  })
  .meta({ id: 'RetentionRequest' });
export type RetentionRequest = z.infer<typeof RetentionRequest>;

export const SweepPreview = z.object({
  episodes: z.number().int(),
  bytes: z.number().int(),
  sample: z.array(z.object({ episode_id: z.string(), name: z.string().nullable(), created_at: z.string() })),
});
export type SweepPreview = z.infer<typeof SweepPreview>;

export const SweepResult = z.object({
  started_at: z.string(),
  finished_at: z.string().nullable(),
  deleted: z.number().int(),
  bytes_freed: z.number().int(),
  errors: z.number().int(),
  message: z.string().nullable(),
});
export type SweepResult = z.infer<typeof SweepResult>;

export const Retention = z
  .object({
    keep_days: z.number().int().nullable(),
    keep_failed_days: z.number().int().nullable(),
    updated_at: z.string().nullable(),
    next_sweep: SweepPreview,
    last_sweep: SweepResult.nullable(),
  })
  .meta({ id: 'Retention' });
export type Retention = z.infer<typeof Retention>;

export const deleteEpisodeRoute = defineRoute({
  operationId: 'deleteEpisode',
  method: 'DELETE',
  path: '/api/episodes/{episode_id}',
  auth: 'apiKey',
  summary:
    'Delete an episode: its artifacts (from storage), track index and insights (Idempotency-Key honoured)',
  params: EpisodeIdParams,
  query: DeleteEpisodeQuery,
  responses: { 200: { description: 'Deleted', schema: DeleteEpisodeResponse } },
  errors: [404, 409],
});

export const exportEpisodesRoute = defineRoute({
  operationId: 'exportEpisodes',
  method: 'GET',
  path: '/api/episodes/export',
  auth: 'apiKey',
  summary: 'Every matching episode as JSON Lines (one ExportedEpisode per line), streamed',
  query: ExportEpisodesQuery,
  responses: { 200: { description: 'One JSON object per line', contentType: 'application/x-ndjson' } },
  errors: [],
});

export const storageUsageRoute = defineRoute({
  operationId: 'getStorageUsage',
  method: 'GET',
  path: '/api/project/storage',
  auth: 'apiKey',
  summary: "The project's stored bytes and artifact counts, by kind, and its largest episodes",
  responses: { 200: { description: 'Storage used', schema: StorageUsage } },
  errors: [],
});

export const getRetentionRoute = defineRoute({
  operationId: 'getRetention',
  method: 'GET',
  path: '/api/project/retention',
  auth: 'apiKey',
  summary: "The project's retention, what the next sweep will delete and the last sweep's result",
  responses: { 200: { description: 'Retention', schema: Retention } },
  errors: [],
});

export const setRetentionRoute = defineRoute({
  operationId: 'setRetention',
  method: 'PUT',
  path: '/api/project/retention',
  auth: 'apiKey',
  summary: "Set the project's retention (null keeps forever)",
  body: RetentionRequest,
  responses: { 200: { description: 'Retention', schema: Retention } },
  errors: [],
});
