import { z } from 'zod';
import { ArtifactKind } from './common.js';
import { defineRoute } from './route.js';

/**
 * Replay tracks. Times are nanoseconds on the episode's timeline (0 = the episode start) as JSON numbers: exact up
 * to 2^53 ns ≈ 104 days, far beyond an episode. Absolute Unix-epoch ns (ROS 2 bags) exceed 2^53, so the one
 * absolute value, `origin_ns` (the epoch time of timeline 0), is a decimal string.
 */
const timelineNs = z.number().finite();

export const TrackInfo = z
  .object({
    name: z.string().describe('`<topic>/<field>`; unique within the episode (`actions:` prefix on a clash)'),
    artifact_kind: ArtifactKind,
    topic: z.string(),
    field: z.string(),
    columns: z.array(z.string()).describe('names from the file when present, else `<name>[i]`'),
    dtype: z.string().describe("numpy dtype string, e.g. '<f4'"),
    samples: z.number().int().nonnegative(),
    t_start_ns: timelineNs.nullable(),
    t_end_ns: timelineNs.nullable(),
    absolute_time: z.boolean().describe('the file carried Unix-epoch times (kept: origin_ns + t)'),
    time_source: z.enum(['t_ns', 'steps']).describe('`steps`: no usable `_t_ns`, evenly spaced at the fps'),
    warnings: z.array(z.string()),
  })
  // No component id: nested ids must be listed in openapi.ts; inlined in TrackList instead.
  .describe('One plottable array: a `<topic>/<field>` member or a table column');
export type TrackInfo = z.infer<typeof TrackInfo>;

export const TrackList = z
  .object({
    tracks: z.array(TrackInfo),
    warnings: z
      .array(z.string())
      .describe('file-level problems: unreadable files, skipped members, partial index'),
    origin_ns: z
      .string()
      .regex(/^-?\d+$/)
      .nullable()
      .describe('Unix-epoch ns of timeline 0 when any track has absolute times'),
  })
  .meta({ id: 'TrackList' });
export type TrackList = z.infer<typeof TrackList>;

/** Query of `GET /api/episodes/{id}/tracks/{name}`; absent bounds mean the track's own start/end. */
export const TrackWindowQuery = z
  .object({
    from_ns: z.coerce.number().finite().optional(),
    to_ns: z.coerce.number().finite().optional(),
    points: z.coerce.number().int().min(2).max(20_000).default(2_000),
  })
  .refine((q) => q.from_ns === undefined || q.to_ns === undefined || q.from_ns <= q.to_ns, {
    message: 'from_ns must not be after to_ns',
    path: ['from_ns'],
  })
  .meta({ id: 'TrackWindowQuery' });
export type TrackWindowQuery = z.infer<typeof TrackWindowQuery>;

const values = z
  .array(z.number().nullable())
  .describe(
    'null = NaN/Inf (a gap). float32/float16 samples: the fewest digits that read back as the same float32',
  );

export const TrackWindow = z
  .object({
    name: z.string(),
    columns: z.array(z.string()),
    from_ns: timelineNs,
    to_ns: timelineNs,
    samples: z.number().int().nonnegative().describe('samples of the track inside the window'),
    downsampled: z.boolean().describe('false: every sample (min = max = the value)'),
    t_ns: z.array(timelineNs).describe('downsampled: time of the first sample of each bucket'),
    series: z.array(z.object({ column: z.string(), min: values, max: values })),
  })
  .meta({ id: 'TrackWindow' });
export type TrackWindow = z.infer<typeof TrackWindow>;

const TrackEpisodeParams = z.object({ episode_id: z.guid() });

export const listTracksRoute = defineRoute({
  operationId: 'listTracks',
  method: 'GET',
  path: '/api/episodes/{episode_id}/tracks',
  auth: 'apiKeyOrSession',
  summary: "The tracks found in an episode's sensors and actions files, on the episode's timeline",
  params: TrackEpisodeParams,
  responses: { 200: { description: 'The tracks and the problems found while indexing', schema: TrackList } },
  errors: [404],
});

export const getTrackWindowRoute = defineRoute({
  operationId: 'getTrackWindow',
  method: 'GET',
  path: '/api/episodes/{episode_id}/tracks/{name*}',
  auth: 'apiKeyOrSession',
  summary:
    'One track over a time window, downsampled on the server (min/max per bucket) past `points` samples',
  description: 'The name may contain slashes (`/joint_states/position`); send it URL-encoded or as is.',
  params: TrackEpisodeParams.extend({ name: z.string().min(1) }),
  query: TrackWindowQuery,
  responses: { 200: { description: 'The samples (or buckets) inside the window', schema: TrackWindow } },
  errors: [404],
});
