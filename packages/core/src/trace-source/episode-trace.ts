import type { EpisodeTrace, OtelBlock, TraceEpisodeBar, TraceOverview } from '@robotrace/contracts';
import { episode, trackIndex } from '@robotrace/db';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { CoreDeps, ProjectScope } from '../deps.js';
import { NotFoundError } from '../errors.js';
import { isUuid } from '../ids.js';
import { isSampled, isTraceId } from '../trace-context.js';
import { episodeWindow } from '../trace-links.js';
import { type Alignment, alignEpisode } from './align.js';
import type { TraceLookupAnswer, TraceWindow } from './source.js';
import { SpanList } from './span-list.js';

/**
 * The span lane's two reads: one episode's trace (aligned on its timeline) and one whole trace with every episode
 * of the project that carries it. Project-scoped like every read (another project's episode is a 404). The trace
 * backend's faults never become errors here: they are a status and a reason for the lane to show.
 */
export type TraceDeps = Pick<CoreDeps, 'db' | 'clock' | 'traceSource'>;

const columns = {
  id: episode.id,
  name: episode.name,
  status: episode.status,
  traceId: episode.traceId,
  spanId: episode.spanId,
  createdAt: episode.createdAt,
  finalizedAt: episode.finalizedAt,
  durationS: episode.durationS,
  clientStartNs: episode.clientStartNs,
  // Only the otel block of the metadata (the rest may be a MiB the lane does not need).
  otel: sql<OtelBlock | null>`${episode.metadata}->'otel'`,
};

/**
 * Earliest first `_t_ns` of the absolute-time tracks per episode (ROS 2 bags: already the robot's clock), computed
 * in the database so the track index's jsonb never leaves it.
 */
async function absoluteTrackStarts(
  deps: TraceDeps,
  scope: ProjectScope,
  ids: string[],
): Promise<Map<string, bigint>> {
  if (ids.length === 0) return new Map();
  const rows = await deps.db
    .select({
      episodeId: trackIndex.episodeId,
      start: sql<string | null>`(select min((t.value->'time'->>'startNs')::numeric)::text
        from jsonb_array_elements(${trackIndex.tracks}) as t
        where (t.value->'time'->>'absolute') = 'true')`,
    })
    .from(trackIndex)
    .where(and(eq(trackIndex.projectId, scope.projectId), inArray(trackIndex.episodeId, ids)));
  const out = new Map<string, bigint>();
  for (const r of rows) {
    if (!r.start || !/^\d+$/.test(r.start)) continue;
    const start = BigInt(r.start);
    const known = out.get(r.episodeId);
    if (known === undefined || start < known) out.set(r.episodeId, start);
  }
  return out;
}

type Row = Awaited<ReturnType<typeof selectEpisodes>>[number];

function selectEpisodes(deps: TraceDeps, where: ReturnType<typeof and>, limit: number) {
  return deps.db
    .select(columns)
    .from(episode)
    .where(where)
    .orderBy(asc(episode.createdAt), asc(episode.id))
    .limit(limit);
}

const secondsOf = (w: { startMs: number; endMs: number }): TraceWindow => ({
  startS: w.startMs / 1000,
  endS: w.endMs / 1000,
});

/**
 * An API answer with its spans as a SpanList: their JSON is written once per fetched trace and sent as it is
 * (apps/web/src/routes/trace.ts); `toArray()` gives them as objects.
 */
export type WithSpanList<T> = Omit<T, 'spans'> & { spans: SpanList };

/** The episode's alignment and its own time span on the spans' clock. */
function placeEpisode(
  row: Row,
  spans: SpanList,
  absoluteStart: bigint | undefined,
  offsetMs: number,
): { alignment: Alignment; startNs: bigint; endNs: bigint } {
  const own = row.spanId ? spans.timesOf(row.spanId) : undefined;
  const alignment = alignEpisode({
    absoluteTracksStartNs: absoluteStart ?? null,
    clientStartNs: row.clientStartNs,
    episodeSpanStartNs: own ? BigInt(own.start_unix_ns) : null,
    createdAt: row.createdAt,
    durationS: row.durationS,
    userOffsetMs: offsetMs,
  });
  // The logged duration when there is one; else the episode's own span's length; else a point in time.
  const durationNs =
    typeof row.durationS === 'number' && Number.isFinite(row.durationS) && row.durationS > 0
      ? BigInt(Math.round(row.durationS * 1e9))
      : own
        ? BigInt(own.end_unix_ns) - BigInt(own.start_unix_ns)
        : 0n;
  return { alignment, startNs: alignment.startUnixNs, endNs: alignment.startUnixNs + durationNs };
}

type FetchFields = WithSpanList<
  Pick<
    EpisodeTrace,
    'status' | 'reason' | 'source' | 'fetched_at' | 'cached' | 'truncated' | 'total_spans' | 'spans'
  >
>;

function fetchFields(
  deps: TraceDeps,
  r: TraceLookupAnswer | { status: 'not_found'; reason: string },
): FetchFields {
  const source = deps.traceSource?.config.kind ?? null;
  if (!('cached' in r))
    return {
      status: r.status,
      reason: r.reason,
      source,
      fetched_at: null,
      cached: false,
      truncated: false,
      total_spans: 0,
      spans: SpanList.EMPTY,
    };
  const base = { source, fetched_at: new Date(r.fetchedAtMs).toISOString(), cached: r.cached };
  if (r.status === 'found')
    return { ...base, status: 'found', truncated: r.truncated, total_spans: r.total_spans, spans: r.spans };
  return {
    ...base,
    status: r.status,
    reason: r.reason,
    truncated: false,
    total_spans: 0,
    spans: SpanList.EMPTY,
  };
}

const NOT_CONFIGURED: FetchFields = {
  status: 'not_configured',
  reason: 'no trace source is configured (ROBOTRACE_TRACE_SOURCE)',
  source: null,
  fetched_at: null,
  cached: false,
  truncated: false,
  total_spans: 0,
  spans: SpanList.EMPTY,
};

/** `GET /api/episodes/{id}/trace`: the episode's spans, aligned on its timeline (shifted by `offsetMs`). */
export async function episodeTrace(
  deps: TraceDeps,
  scope: ProjectScope,
  episodeId: string,
  offsetMs = 0,
): Promise<WithSpanList<EpisodeTrace>> {
  if (!isUuid(episodeId)) throw new NotFoundError('Episode not found');
  const [row] = await selectEpisodes(
    deps,
    and(eq(episode.projectId, scope.projectId), eq(episode.id, episodeId.toLowerCase())),
    1,
  );
  if (!row) throw new NotFoundError('Episode not found');
  const absolute = (await absoluteTrackStarts(deps, scope, [row.id])).get(row.id);
  const block = row.traceId && row.spanId ? row.otel : null;
  let fields: FetchFields;
  if (!block || !row.traceId) fields = fetchFields(deps, noContext);
  else if (!deps.traceSource) fields = NOT_CONFIGURED;
  else
    fields = fetchFields(
      deps,
      await deps.traceSource.lookup(
        row.traceId,
        secondsOf(
          episodeWindow({
            created_at: row.createdAt,
            duration_s: row.durationS,
            finalized_at: row.finalizedAt,
          }),
        ),
      ),
    );
  const placed = placeEpisode(row, fields.spans, absolute, offsetMs);
  return {
    ...fields,
    trace_id: block ? row.traceId : null,
    span_id: block ? row.spanId : null,
    sampled: block ? isSampled(block) : null,
    alignment: {
      anchor: placed.alignment.anchor,
      start_unix_ns: placed.startNs.toString(),
      offset_ms: offsetMs,
      note: placed.alignment.note,
    },
    window: { start_unix_ns: placed.startNs.toString(), end_unix_ns: placed.endNs.toString() },
  };
}

const noContext = {
  status: 'not_found' as const,
  reason: 'this episode carries no trace context (it was not logged inside a span)',
};

/** Episodes drawn on the trace page at most (the page lists the same cap). */
export const TRACE_PAGE_EPISODES = 500;

/** `GET /api/traces/{trace_id}`: the whole trace and the project's episodes of it, each over its window. */
export async function traceOverview(
  deps: TraceDeps,
  scope: ProjectScope,
  traceId: string,
): Promise<WithSpanList<TraceOverview>> {
  const id = traceId.trim().toLowerCase();
  if (!isTraceId(id)) throw new NotFoundError('Not a trace id');
  const rows = await selectEpisodes(
    deps,
    and(eq(episode.projectId, scope.projectId), eq(episode.traceId, id)),
    TRACE_PAGE_EPISODES,
  );
  if (rows.length === 0) throw new NotFoundError('No episode of this project carries this trace');
  const absolute = await absoluteTrackStarts(
    deps,
    scope,
    rows.map((r) => r.id),
  );
  const windows = rows.map((r) =>
    episodeWindow({ created_at: r.createdAt, duration_s: r.durationS, finalized_at: r.finalizedAt }),
  );
  const window = {
    startMs: Math.min(...windows.map((w) => w.startMs)),
    endMs: Math.max(...windows.map((w) => w.endMs)),
  };
  const fields = deps.traceSource
    ? fetchFields(deps, await deps.traceSource.lookup(id, secondsOf(window)))
    : NOT_CONFIGURED;
  const episodes: TraceEpisodeBar[] = rows.map((r) => {
    const placed = placeEpisode(r, fields.spans, absolute.get(r.id), 0);
    return {
      id: r.id,
      name: r.name,
      status: r.status,
      span_id: r.spanId,
      anchor: placed.alignment.anchor,
      start_unix_ns: placed.startNs.toString(),
      end_unix_ns: placed.endNs.toString(),
    };
  });
  return { ...fields, trace_id: id, episodes };
}
