import type { ArtifactKind } from '@robotrace/contracts';
import type { Database } from '@robotrace/db';
import { artifact, episode, episodeInsight } from '@robotrace/db';
import { and, eq, isNotNull } from 'drizzle-orm';
import type { CoreDeps, ProjectScope } from '../deps.js';
import { storageKey } from '../episodes.js';
import { NotFoundError } from '../errors.js';
import { isUuid } from '../ids.js';
import { episodeTrace } from '../trace-source/episode-trace.js';
import {
  indexArtifactTracks,
  listTracks,
  readTrackWindow,
  TRACK_KINDS,
  type TrackPorts,
} from '../tracks/service.js';
import { analyzeFailure } from './rules.js';
import type { Finding, InsightInput, InsightSpan, TrackColumn } from './types.js';

/**
 * Failure insights: fills an InsightInput from what the server has (the episode row and its typed metadata,
 * the baseline it replayed, its replay tracks, its correlated trace), runs the pure rules and stores the ranked
 * findings with the analyzer version. Finalize calls `scheduleInsights`, which runs after the answer is sent,
 * one analysis at a time, each bounded in time; nothing here ever throws into the caller.
 */

/** Bump when a rule or an input changes: stored results of an older version are shown as stale. */
export const ANALYZER_VERSION = 1;
/** One analysis gives up after this long (its error is recorded, its partial input is not stored). */
export const ANALYSIS_TIMEOUT_MS = 15_000;
/** Analyses waiting at most; past it a new one is recorded as skipped, never queued without bound. */
const MAX_QUEUED = 200;
const MAX_TRACKS = 16;
const MAX_COLUMNS_PER_TRACK = 8;
const TRACK_POINTS = 2_000;

/** The replay ports (ranged artifact reads), registered by the app that has them; absent: tracks are skipped. */
const trackPorts = new WeakMap<Database, () => Promise<TrackPorts>>();
export function provideInsightTracks(deps: Pick<CoreDeps, 'db'>, ports: () => Promise<TrackPorts>): void {
  trackPorts.set(deps.db, ports);
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Whether a baseline episode succeeded, from the outcome conventions the official eval runner reads (§4). */
export function outcomeSucceeded(metadata: Record<string, unknown>, status: string): boolean | null {
  const sources = [metadata, metadata.outcome, metadata.lerobot_episode_outcome].filter(
    (s): s is Record<string, unknown> => typeof s === 'object' && s !== null && !Array.isArray(s),
  );
  for (const s of sources)
    for (const key of ['success', 'next.success']) if (typeof s[key] === 'boolean') return s[key] as boolean;
  if (status === 'failed') return false;
  return null;
}

async function tracksOf(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  notes: string[],
): Promise<TrackColumn[]> {
  const ports = trackPorts.get(deps.db);
  if (!ports) return [];
  const td = { db: deps.db, clock: deps.clock, tracks: await ports() };
  let list = await listTracks(td, scope, episodeId);
  if (list.tracks.length === 0 && list.warnings.length === 0) {
    // Not indexed yet (the upload hook may not have run): index the uploaded track files now, as replay would.
    const uploaded = await deps.db
      .select({ kind: artifact.kind })
      .from(artifact)
      .where(and(eq(artifact.episodeId, episodeId), isNotNull(artifact.uploadedAt)));
    for (const { kind } of uploaded) {
      if (!TRACK_KINDS.includes(kind as ArtifactKind)) continue;
      const source = await td.tracks.open(storageKey(scope, episodeId, kind as ArtifactKind));
      try {
        list = await indexArtifactTracks(td, scope, episodeId, kind as ArtifactKind, source);
      } finally {
        await source.close();
      }
    }
  }
  const out: TrackColumn[] = [];
  for (const info of list.tracks.slice(0, MAX_TRACKS)) {
    try {
      const w = await readTrackWindow(td, scope, episodeId, info.name, { points: TRACK_POINTS });
      // A downsampled window gives min and max per bucket: both, in time order, keep spikes and extremes.
      const t: number[] = [];
      const idx: Array<[number, 'min' | 'max']> = [];
      w.t_ns.forEach((ns, i) => {
        t.push(ns / 1e9);
        idx.push([i, 'min']);
        if (w.downsampled) {
          t.push(ns / 1e9);
          idx.push([i, 'max']);
        }
      });
      for (const s of w.series.slice(0, MAX_COLUMNS_PER_TRACK)) {
        const values = idx.map(([i, k]) => {
          const v = s[k][i];
          return typeof v === 'number' ? v : Number.NaN;
        });
        out.push({
          // Unnamed columns already read `<track>[i]`; named ones get their track in front.
          name: s.column.startsWith(info.name) ? s.column : `${info.name}.${s.column}`,
          t_s: t,
          values,
        });
      }
    } catch (err) {
      notes.push(`track ${info.name}: ${(err as Error).message}`);
    }
  }
  if (list.tracks.length > MAX_TRACKS)
    notes.push(`tracks: read the first ${MAX_TRACKS} of ${list.tracks.length}`);
  return out;
}

async function spansOf(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  notes: string[],
): Promise<InsightSpan[]> {
  if (!deps.traceSource) return [];
  const trace = await episodeTrace(deps, scope, episodeId, 0);
  if (trace.status !== 'found') {
    if (trace.trace_id)
      notes.push(`trace ${trace.trace_id}: ${trace.status}${trace.reason ? ` (${trace.reason})` : ''}`);
    return [];
  }
  const t0 = BigInt(trace.alignment.start_unix_ns);
  const s = (ns: string) => Number(BigInt(ns) - t0) / 1e9;
  return trace.spans.toArray().map((sp) => ({
    span_id: sp.span_id,
    parent_span_id: sp.parent_span_id,
    name: sp.name,
    service: sp.service,
    start_s: s(sp.start_unix_ns),
    end_s: s(sp.end_unix_ns),
    status: sp.status.code,
    ...(sp.status.message ? { status_message: sp.status.message } : {}),
    attributes: sp.attributes,
  }));
}

/** Everything the rules read, from the database, the replay files and the trace backend. */
export async function insightInputOf(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  notes: string[],
): Promise<InsightInput> {
  if (!isUuid(episodeId)) throw new NotFoundError('Episode not found');
  const [row] = await deps.db
    .select()
    .from(episode)
    .where(and(eq(episode.id, episodeId.toLowerCase()), eq(episode.projectId, scope.projectId)));
  if (!row) throw new NotFoundError('Episode not found');
  const metadata = row.metadata ?? {};
  const input: InsightInput = {
    episode: {
      status: row.status,
      failure_reason: typeof metadata.failure_reason === 'string' ? metadata.failure_reason : null,
      failure_time_s: row.failureTimeS,
      duration_s: row.durationS ?? num(metadata.duration_s),
      metadata,
    },
  };
  const baselineId = metadata.baseline_episode_id;
  if (typeof metadata.eval_run_id === 'string' && typeof baselineId === 'string' && isUuid(baselineId)) {
    const [b] = await deps.db
      .select({ id: episode.id, status: episode.status, metadata: episode.metadata })
      .from(episode)
      .where(and(eq(episode.id, baselineId.toLowerCase()), eq(episode.projectId, scope.projectId)));
    if (b) input.baseline = { episode_id: b.id, succeeded: outcomeSucceeded(b.metadata ?? {}, b.status) };
  }
  const [tracks, spans] = await Promise.all([
    tracksOf(deps, scope, row.id, notes).catch((err: Error) => {
      notes.push(`tracks: ${err.message}`);
      return [];
    }),
    spansOf(deps, scope, row.id, notes).catch((err: Error) => {
      notes.push(`trace: ${err.message}`);
      return [];
    }),
  ]);
  if (tracks.length > 0) input.tracks = tracks;
  if (spans.length > 0) input.spans = spans;
  return input;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`analysis timed out after ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function store(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  values: { status: 'running' | 'done' | 'error'; findings?: Finding[]; errors?: string[] },
): Promise<void> {
  const now = deps.clock.now();
  const row = {
    episodeId,
    projectId: scope.projectId,
    analyzerVersion: ANALYZER_VERSION,
    status: values.status,
    findings: values.findings ?? [],
    errors: values.errors ?? [],
    startedAt: now,
    finishedAt: values.status === 'running' ? null : now,
  };
  const { startedAt: _keep, ...update } = row;
  await deps.db
    .insert(episodeInsight)
    .values(row)
    .onConflictDoUpdate({
      target: episodeInsight.episodeId,
      set: values.status === 'running' ? row : update,
    });
}

/** Analyzes one episode now and stores the result; returns what it stored. Never throws for a failed analysis. */
export async function analyzeEpisode(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  timeoutMs = ANALYSIS_TIMEOUT_MS,
): Promise<{ status: 'done' | 'error'; findings: Finding[]; errors: string[] }> {
  const id = episodeId.toLowerCase();
  const notes: string[] = [];
  try {
    await store(deps, scope, id, { status: 'running' });
    const input = await withTimeout(insightInputOf(deps, scope, id, notes), timeoutMs);
    const { findings, errors } = analyzeFailure(input);
    const result = { status: 'done' as const, findings, errors: [...notes, ...errors] };
    await store(deps, scope, id, result);
    return result;
  } catch (err) {
    const result = {
      status: 'error' as const,
      findings: [],
      errors: [...notes, (err as Error)?.message ?? String(err)],
    };
    await store(deps, scope, id, result).catch(() => undefined);
    return result;
  }
}

// ---- The finalize hook: one analysis at a time, after the answer. ----

const queue: Array<() => Promise<void>> = [];
let running: Promise<void> | null = null;

function drain(): Promise<void> {
  running ??= (async () => {
    try {
      // A job reports its own failures; this catch only keeps one from stopping the queue or escaping.
      for (let job = queue.shift(); job; job = queue.shift()) await job().catch(() => undefined);
    } finally {
      running = null;
    }
  })();
  return running;
}

/**
 * Called by finalize for an episode finalized `failed`: returns at once; the analysis starts on a later turn of
 * the event loop (after the finalize answer is written) and records its own errors. `onError` hears about the
 * rare failure to even record one (the database gone).
 */
export function scheduleInsights(
  deps: CoreDeps,
  scope: ProjectScope,
  episodeId: string,
  onError: (err: unknown) => void = () => undefined,
): void {
  if (queue.length >= MAX_QUEUED) {
    void store(deps, scope, episodeId, {
      status: 'error',
      errors: ['analysis skipped: too many queued'],
    }).catch(onError);
    return;
  }
  queue.push(async () => {
    try {
      if (await whenFailed(deps, scope, episodeId)) await analyzeEpisode(deps, scope, episodeId);
    } catch (err) {
      onError(err); // the database itself failed (even recording the error did): nothing left to store
    }
  });
  setImmediate(() => void drain());
}

const COMMIT_WAIT_MS = 5_000;
const COMMIT_POLL_MS = 50;

/**
 * Whether to analyze: the hook is called before the finalize commits (it may be batched), so this waits for the
 * row to leave `recording`. Only a committed `failed` row is analyzed, and only once per finalize (a repeated
 * finalize finds a result of this analyzer version newer than the episode's finalize and does nothing).
 */
async function whenFailed(deps: CoreDeps, scope: ProjectScope, episodeId: string): Promise<boolean> {
  if (!isUuid(episodeId)) return false;
  const id = episodeId.toLowerCase();
  for (let waited = 0; ; waited += COMMIT_POLL_MS) {
    const [row] = await deps.db
      .select({ status: episode.status, finalizedAt: episode.finalizedAt })
      .from(episode)
      .where(and(eq(episode.id, id), eq(episode.projectId, scope.projectId)));
    if (!row) return false;
    if (row.status === 'failed') {
      const done = await getInsights(deps, scope, id);
      return !(
        done &&
        !done.stale &&
        done.finishedAt &&
        row.finalizedAt &&
        done.finishedAt >= row.finalizedAt
      );
    }
    if (row.status !== 'recording' || waited >= COMMIT_WAIT_MS) return false;
    await new Promise((r) => setTimeout(r, COMMIT_POLL_MS));
  }
}

/** Resolves once every scheduled analysis has finished (tests; a graceful shutdown). */
export async function insightsSettled(): Promise<void> {
  while (queue.length > 0 || running) await (running ?? drain());
}

export interface StoredInsight {
  analyzerVersion: number;
  stale: boolean;
  status: string;
  findings: Finding[];
  errors: string[];
  finishedAt: Date | null;
}

export async function getInsights(
  deps: Pick<CoreDeps, 'db'>,
  scope: ProjectScope,
  episodeId: string,
): Promise<StoredInsight | null> {
  if (!isUuid(episodeId)) return null;
  const [row] = await deps.db
    .select()
    .from(episodeInsight)
    .where(
      and(
        eq(episodeInsight.episodeId, episodeId.toLowerCase()),
        eq(episodeInsight.projectId, scope.projectId),
      ),
    );
  if (!row) return null;
  return {
    analyzerVersion: row.analyzerVersion,
    stale: row.analyzerVersion !== ANALYZER_VERSION,
    status: row.status,
    findings: row.findings as Finding[],
    errors: row.errors,
    finishedAt: row.finishedAt,
  };
}
