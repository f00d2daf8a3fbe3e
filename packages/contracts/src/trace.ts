import { z } from 'zod';
import { defineRoute } from './route.js';

/**
 * The span lane: an episode's distributed trace as the team's own trace backend (Jaeger, Tempo, any OTLP-JSON
 * URL) has it, read by the server through the backend's query API. Times are Unix ns as decimal strings (they
 * exceed 2^53); everything from the backend is untrusted text (escape it; only http(s) values become links).
 */
const unixNs = z
  .string()
  .regex(/^-?\d+$/)
  .describe('Unix nanoseconds as a decimal string');
const attributes = z.record(z.string(), z.unknown());

export const TraceSpan = z.object({
  trace_id: z.string(),
  span_id: z.string(),
  parent_span_id: z.string().nullable(),
  name: z.string(),
  service: z.string().describe("the resource's service.name ('unknown' without one)"),
  kind: z.enum(['internal', 'server', 'client', 'producer', 'consumer', 'unspecified']),
  start_unix_ns: unixNs,
  end_unix_ns: unixNs,
  status: z.object({ code: z.enum(['unset', 'ok', 'error']), message: z.string().optional() }),
  attributes,
  events: z.array(z.object({ name: z.string(), time_unix_ns: unixNs, attributes })),
});
export type TraceSpan = z.infer<typeof TraceSpan>;

export const TraceStatus = z
  .enum(['found', 'not_found', 'unavailable', 'not_configured'])
  .describe(
    'found: spans below; not_found: the backend has no such trace (sampled out, expired, not exported yet); unavailable: the backend could not be read (reason); not_configured: no ROBOTRACE_TRACE_SOURCE',
  );

export const AlignmentAnchor = z
  .enum(['absolute_tracks', 'client_start', 'episode_span', 'created_at'])
  .describe(
    "what t = 0 of the episode's timeline was taken from, most trusted first: tracks with absolute times, the start the SDK sent, the episode's own span, the server's created_at − duration",
  );

export const TraceAlignment = z.object({
  anchor: AlignmentAnchor,
  start_unix_ns: unixNs.describe("t = 0 of the episode's timeline on the spans' clock, the shift included"),
  offset_ms: z.number().describe("the user's shift (query offset_ms)"),
  note: z.string().describe('one line for the lane: which anchor, and what to distrust'),
});
export type TraceAlignment = z.infer<typeof TraceAlignment>;

/** What every trace answer carries about the fetch itself. */
const fetchFields = {
  status: TraceStatus,
  reason: z.string().optional().describe('why not found / unavailable, in words for the lane'),
  source: z
    .enum(['jaeger', 'tempo', 'otlp-json'])
    .nullable()
    .describe('the kind of trace backend (never its URL or headers)'),
  fetched_at: z.string().nullable().describe('when the backend answered (a cached answer keeps its time)'),
  cached: z.boolean(),
  truncated: z.boolean().describe('the backend had more spans than are returned (the first by start time)'),
  total_spans: z.number().int().nonnegative(),
  spans: z.array(TraceSpan),
};

export const EpisodeTraceQuery = z
  .object({
    offset_ms: z.coerce
      .number()
      .finite()
      .min(-86_400_000)
      .max(86_400_000)
      .default(0)
      .describe('shift the spans later (positive) or earlier on the timeline, milliseconds'),
  })
  .meta({ id: 'EpisodeTraceQuery' });
export type EpisodeTraceQuery = z.infer<typeof EpisodeTraceQuery>;

export const EpisodeTrace = z
  .object({
    ...fetchFields,
    trace_id: z.string().nullable().describe('null: the episode carries no trace context'),
    span_id: z.string().nullable().describe("the episode's own span"),
    sampled: z.boolean().nullable().describe("the traceparent's sampled flag (null: no traceparent)"),
    alignment: TraceAlignment,
    window: z
      .object({ start_unix_ns: unixNs, end_unix_ns: unixNs })
      .describe("the episode's own time span on the spans' clock (spans outside it are drawn dimmed)"),
  })
  .meta({ id: 'EpisodeTrace' });
export type EpisodeTrace = z.infer<typeof EpisodeTrace>;

export const TraceEpisodeBar = z.object({
  id: z.string(),
  name: z.string().nullable(),
  status: z.string(),
  span_id: z.string().nullable(),
  anchor: AlignmentAnchor,
  start_unix_ns: unixNs,
  end_unix_ns: unixNs,
});
export type TraceEpisodeBar = z.infer<typeof TraceEpisodeBar>;

export const TraceOverview = z
  .object({
    ...fetchFields,
    trace_id: z.string(),
    episodes: z.array(TraceEpisodeBar).describe("the project's episodes of this trace, each over its window"),
  })
  .meta({ id: 'TraceOverview' });
export type TraceOverview = z.infer<typeof TraceOverview>;

export const getEpisodeTraceRoute = defineRoute({
  operationId: 'getEpisodeTrace',
  method: 'GET',
  path: '/api/episodes/{episode_id}/trace',
  auth: 'apiKeyOrSession',
  summary: "The episode's spans from the configured trace backend, aligned on the episode's timeline",
  description:
    'Never a 5xx because of the trace backend: a backend that is down, slow or answering garbage is `status: "unavailable"` with a reason. Found traces are cached for a minute, misses for seconds (exporters batch).',
  params: z.object({ episode_id: z.guid() }),
  query: EpisodeTraceQuery,
  responses: { 200: { description: 'What the trace backend has for this episode', schema: EpisodeTrace } },
  errors: [404],
});

export const getTraceRoute = defineRoute({
  operationId: 'getTrace',
  method: 'GET',
  path: '/api/traces/{trace_id}',
  auth: 'apiKeyOrSession',
  summary: "A whole trace's spans and every episode of the project that carries it",
  description: 'A trace id no episode of the caller’s project carries is a 404.',
  params: z.object({ trace_id: z.string().regex(/^[0-9a-fA-F]{32}$/) }),
  responses: { 200: { description: 'The trace and its episodes', schema: TraceOverview } },
  errors: [404],
});
