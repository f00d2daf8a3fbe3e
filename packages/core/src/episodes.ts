import { randomUUID } from 'node:crypto';
import {
  type ArtifactKind,
  type CreateEpisodeRequest,
  type CreateEpisodeResponse,
  type Episode,
  type FinalizeEpisodeRequest,
  type ListEpisodesQuery,
  type ListEpisodesResponse,
  MAX_METADATA_BYTES,
} from '@robotrace/contracts';
import { artifact, episode, episodeSearchText } from '@robotrace/db';
import type { StoredObject } from '@robotrace/storage';
import { and, asc, eq, gte, ilike, inArray, isNull, lte, type SQL, sql } from 'drizzle-orm';
import type { CoreDeps, ProjectScope, RequestContext } from './deps.js';
import { type ArtifactRow, type EpisodeRow, portalUrl, toEpisode } from './episode-view.js';
import { ConflictError, NotFoundError, PayloadTooLargeError, ValidationError } from './errors.js';
import { requestHashOf } from './idempotency.js';
import { episodeIdForKey, isUuid } from './ids.js';
import { parseTraceLookup } from './lookup.js';
import { prepared } from './prepared.js';
import { storableJson, unstorableWarning } from './storable.js';
import { resolveEpisodeOtel } from './trace-context.js';
import { oversizeError, statWithinLimit } from './upload-limit.js';
import { uploadsClosed } from './uploads.js';

/** Content type the signed PUT must carry per slot (what the official SDK sends). */
export const UPLOAD_CONTENT_TYPE: Record<ArtifactKind, string> = {
  video: 'video/mp4',
  sensors: 'application/octet-stream',
  actions: 'application/octet-stream',
};

export const storageKey = (scope: ProjectScope, episodeId: string, kind: ArtifactKind) =>
  `${scope.projectId}/${episodeId}/${kind}`;

function checkMetadataSize(metadata: Record<string, unknown>): void {
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > MAX_METADATA_BYTES)
    throw new PayloadTooLargeError(
      `metadata is ${bytes} bytes; the limit is ${MAX_METADATA_BYTES} bytes (1 MiB)`,
      {
        field: 'metadata',
        bytes,
        limit: MAX_METADATA_BYTES,
      },
    );
}

async function loadArtifacts(deps: CoreDeps, episodeIds: string[]): Promise<Map<string, ArtifactRow[]>> {
  const byEpisode = new Map<string, ArtifactRow[]>();
  if (episodeIds.length === 0) return byEpisode;
  const rows = await deps.db
    .select()
    .from(artifact)
    .where(inArray(artifact.episodeId, episodeIds))
    .orderBy(asc(artifact.kind));
  for (const row of rows) byEpisode.set(row.episodeId, [...(byEpisode.get(row.episodeId) ?? []), row]);
  return byEpisode;
}

async function findRow(deps: CoreDeps, scope: ProjectScope, id: string): Promise<EpisodeRow> {
  if (!isUuid(id)) throw new NotFoundError('Episode not found');
  const [row] = await deps.db
    .select()
    .from(episode)
    .where(and(eq(episode.id, id.toLowerCase()), eq(episode.projectId, scope.projectId)));
  if (!row) throw new NotFoundError('Episode not found');
  return row;
}

/** The SDK's start (decimal Unix ns) as a bigint; beyond int8 (the schema's 19 digits allow it) is dropped. */
function clientStartNs(value: string | null | undefined): bigint | null {
  if (!value) return null;
  const ns = BigInt(value);
  return ns <= 9_223_372_036_854_775_807n ? ns : null;
}

/** A create checked and answered in advance: the rows to write, and the response once they are written. */
export interface PreparedCreate {
  row: typeof episode.$inferInsert & { id: string; projectId: string; createdAt: Date };
  slots: { episodeId: string; kind: string; storageKey: string }[];
  response: CreateEpisodeResponse;
}

/**
 * Everything of a create that needs no database: validation, the otel block, the id, the signed upload URLs
 * (signing is local: an HMAC, or an S3 presign). The answer is complete before the write. With an
 * Idempotency-Key the id is derived from it (ids.ts), so the answer is a function of the project, the key, the
 * body and the creation time: a replay rebuilds the first answer exactly (`replayedCreate`) instead of storing it.
 */
export async function prepareCreate(
  deps: CoreDeps,
  scope: ProjectScope,
  body: CreateEpisodeRequest,
  ctx: RequestContext,
  idempotency?: { key: string; rawBody: string },
): Promise<PreparedCreate> {
  const text = storableJson({
    name: body.name,
    robot: body.robot,
    policy_version: body.policy_version,
    env_version: body.env_version,
    git_sha: body.git_sha,
    metadata: body.metadata,
  });
  const fields = text.value;
  const resolved = resolveEpisodeOtel(body.otel, fields.metadata);
  const { block, metadata } = resolved;
  const warnings =
    text.replaced > 0 ? [...resolved.warnings, unstorableWarning(text.replaced)] : resolved.warnings;
  checkMetadataSize(metadata);
  const id = idempotency ? episodeIdForKey(scope.projectId, idempotency.key) : randomUUID();
  const kinds = [...new Set(body.request_uploads ?? [])];
  const row: PreparedCreate['row'] = {
    id,
    projectId: scope.projectId,
    name: fields.name ?? null,
    source: body.source,
    status: 'recording',
    robot: fields.robot ?? null,
    policyVersion: fields.policy_version ?? null,
    envVersion: fields.env_version ?? null,
    gitSha: fields.git_sha ?? null,
    seed: body.seed ?? null,
    fps: body.fps ?? null,
    metadata,
    traceId: block?.trace_id ?? null,
    spanId: block?.span_id ?? null,
    clientStartNs: clientStartNs(body.started_at_unix_ns),
    requestHash: idempotency ? requestHashOf(idempotency.rawBody) : null,
    // Set here (millisecond precision) rather than by the DB so keyset cursors round-trip exactly.
    createdAt: deps.clock.now(),
  };
  const slots = kinds.map((kind) => ({ episodeId: id, kind, storageKey: storageKey(scope, id, kind) }));
  return {
    row,
    slots,
    response: {
      episode_id: id,
      status: 'recording',
      storage: deps.store.kind,
      upload_urls: await signedUploads(deps, slots, row.createdAt, ctx),
      portal_url: portalUrl(ctx.baseUrl, id),
      warnings,
    },
  };
}

/** The upload URLs of a create's slots, their lifetime counted from the episode's creation. */
function signedUploads(
  deps: CoreDeps,
  slots: PreparedCreate['slots'],
  issuedAt: Date,
  ctx: RequestContext,
): Promise<CreateEpisodeResponse['upload_urls']> {
  return Promise.all(
    slots.map(async (slot) => {
      const kind = slot.kind as ArtifactKind;
      const signed = await deps.store.signUpload(slot.storageKey, {
        contentType: UPLOAD_CONTENT_TYPE[kind],
        expiresInS: deps.limits.uploadUrlTtlS,
        baseUrl: ctx.baseUrl,
        issuedAt,
      });
      return { kind, url: signed.url, expires_at: signed.expiresAt.toISOString() };
    }),
  );
}

/**
 * The answer a keyed create got the first time, for a retry with the same key and body: the retry was prepared
 * with the same id (derived from the key), fields and warnings; only the time differs, so its upload URLs are
 * signed again as of the episode's creation, which gives the same URLs and expiry the first answer carried.
 */
export async function replayedCreate(
  deps: CoreDeps,
  retry: PreparedCreate,
  createdAt: Date,
  ctx: RequestContext,
): Promise<CreateEpisodeResponse> {
  return { ...retry.response, upload_urls: await signedUploads(deps, retry.slots, createdAt, ctx) };
}

/** Creates the episode (and its artifact slots) in one transaction; the signed upload URLs were made first. */
export async function createEpisode(
  deps: CoreDeps,
  scope: ProjectScope,
  body: CreateEpisodeRequest,
  ctx: RequestContext,
): Promise<CreateEpisodeResponse> {
  const { row, slots, response } = await prepareCreate(deps, scope, body, ctx);
  if (slots.length === 0) await prepared(deps.db).insertEpisode.execute(row);
  else
    await deps.db.transaction(async (tx) => {
      await tx.insert(episode).values(row);
      await tx.insert(artifact).values(slots);
    });
  return response;
}

/** A new signed upload URL for one slot of a still-recording episode (the first one expired). */
export async function refreshUploadUrl(
  deps: CoreDeps,
  scope: ProjectScope,
  id: string,
  kind: ArtifactKind,
  ctx: RequestContext,
): Promise<{ kind: ArtifactKind; url: string; expires_at: string }> {
  const row = await findRow(deps, scope, id);
  if (row.status !== 'recording') throw uploadsClosed(row.status);
  const [slot] = await deps.db
    .select({ key: artifact.storageKey })
    .from(artifact)
    .where(and(eq(artifact.episodeId, row.id), eq(artifact.kind, kind)));
  if (!slot) throw new NotFoundError(`Episode has no ${kind} upload slot (request it at create)`);
  const signed = await deps.store.signUpload(slot.key, {
    contentType: UPLOAD_CONTENT_TYPE[kind],
    expiresInS: deps.limits.uploadUrlTtlS,
    baseUrl: ctx.baseUrl,
  });
  return { kind, url: signed.url, expires_at: signed.expiresAt.toISOString() };
}

/** A finalize checked and read in advance (outside any transaction): what applyFinalize writes. */
export interface FinalizePlan {
  scope: ProjectScope;
  id: string;
  body: FinalizeEpisodeRequest;
  ctx: RequestContext;
  current: EpisodeRow;
  /** Objects found in the store for slots the app never recorded an upload of (S3), by kind. */
  found: Map<string, StoredObject | null>;
  metadata: Record<string, unknown>;
}

/**
 * The read-only part of a finalize: the row, its slots, and a stat of the uploads that bypassed the app (S3
 * HEAD requests), so a batch transaction never waits on the store.
 */
export async function planFinalize(
  deps: CoreDeps,
  scope: ProjectScope,
  id: string,
  body: FinalizeEpisodeRequest,
  ctx: RequestContext,
): Promise<FinalizePlan> {
  if (body.status === 'ready' && body.failure_time_s != null)
    throw new ValidationError('Invalid request body: failure_time_s: only allowed with status "failed"', {
      issues: [{ path: 'failure_time_s', message: 'only allowed with status "failed"' }],
    });
  const current = await findRow(deps, scope, id);
  const found: FinalizePlan['found'] = new Map();
  if (current.status !== 'recording') return { scope, id, body, ctx, current, found, metadata: {} };

  const artifacts = (await loadArtifacts(deps, [current.id])).get(current.id) ?? [];
  // Stores whose uploads bypass the app (S3) are asked what arrived.
  const pending = artifacts.filter((a) => a.uploadedAt === null);
  const checked = await Promise.all(pending.map((a) => statWithinLimit(deps, a, true)));
  const oversize = checked.flatMap((c) => (c.oversize ? [c.oversize] : []));
  if (oversize.length > 0 && body.status === 'ready') throw oversizeError(oversize);
  pending.forEach((a, i) => {
    found.set(a.kind, checked[i]?.obj ?? null);
  });

  const { otel: _ignored, ...incoming } = storableJson(body.metadata ?? {}).value;
  const metadata = { ...current.metadata, ...incoming };
  if (current.metadata.otel !== undefined) metadata.otel = current.metadata.otel;
  checkMetadataSize(metadata);
  return { scope, id, body, ctx, current, found, metadata };
}

/** The writing part of a finalize (one transaction, or a savepoint of a batch's transaction). */
export async function applyFinalize(deps: CoreDeps, plan: FinalizePlan): Promise<Episode> {
  const { scope, id, body, ctx, current, found, metadata } = plan;
  if (current.status !== 'recording') return finalizedAlready(deps, current, body.status, ctx);
  const now = deps.clock.now();
  const updated = await deps.db.transaction(async (tx) => {
    // Lock the row before counting bytes: an upload being recorded (recordUpload) commits first and is
    // counted; one arriving later finds the episode finalized and is refused.
    const [open] = await tx
      .select({ id: episode.id })
      .from(episode)
      .where(
        and(
          eq(episode.id, current.id),
          eq(episode.projectId, scope.projectId),
          eq(episode.status, 'recording'),
        ),
      )
      .for('update');
    if (!open) return undefined;
    const slots = await tx.select().from(artifact).where(eq(artifact.episodeId, current.id));
    const storedBytes = slots.reduce((sum, a) => sum + (a.sizeBytes ?? found.get(a.kind)?.size ?? 0), 0);
    const rows = await tx
      .update(episode)
      .set({
        status: body.status,
        durationS: body.duration_s ?? current.durationS,
        fps: body.fps ?? current.fps,
        bytesTotal: body.bytes_total ?? storedBytes,
        failureTimeS: body.status === 'failed' ? (body.failure_time_s ?? null) : null,
        metadata,
        finalizedAt: now,
      })
      .where(eq(episode.id, current.id))
      .returning();
    for (const a of slots) {
      const obj = a.uploadedAt === null ? found.get(a.kind) : null;
      if (obj)
        await tx
          .update(artifact)
          .set({ sizeBytes: obj.size, contentType: obj.contentType, uploadedAt: now })
          .where(
            and(eq(artifact.episodeId, a.episodeId), eq(artifact.kind, a.kind), isNull(artifact.uploadedAt)),
          );
    }
    return rows[0];
  });
  // Lost a race with a concurrent finalize: answer as a repeat would.
  if (!updated) return finalizedAlready(deps, await findRow(deps, scope, id), body.status, ctx);
  const fresh = (await loadArtifacts(deps, [updated.id])).get(updated.id) ?? [];
  return toEpisode(updated, fresh, ctx.baseUrl);
}

/**
 * Finalizes once: a repeat with the same status is a no-op 200, another status is a 409. Metadata is merged
 * shallowly, and the otel block set at create is never dropped or rewritten.
 */
export async function finalizeEpisode(
  deps: CoreDeps,
  scope: ProjectScope,
  id: string,
  body: FinalizeEpisodeRequest,
  ctx: RequestContext,
): Promise<Episode> {
  return applyFinalize(deps, await planFinalize(deps, scope, id, body, ctx));
}

async function finalizedAlready(
  deps: CoreDeps,
  row: EpisodeRow,
  wanted: string,
  ctx: RequestContext,
): Promise<Episode> {
  if (row.status !== wanted)
    throw new ConflictError(`Episode is already finalized as "${row.status}"; it cannot become "${wanted}"`, {
      status: row.status,
    });
  const artifacts = (await loadArtifacts(deps, [row.id])).get(row.id) ?? [];
  return toEpisode(row, artifacts, ctx.baseUrl);
}

export async function getEpisode(
  deps: CoreDeps,
  scope: ProjectScope,
  id: string,
  ctx: RequestContext,
): Promise<Episode> {
  const row = await findRow(deps, scope, id);
  const artifacts = (await loadArtifacts(deps, [row.id])).get(row.id) ?? [];
  return toEpisode(row, artifacts, ctx.baseUrl);
}

/** A short-lived signed GET for one stored artifact; 404 when the slot is absent or never completed. */
export async function artifactDownloadUrl(
  deps: CoreDeps,
  scope: ProjectScope,
  id: string,
  kind: string,
  ctx: RequestContext,
): Promise<string> {
  const row = await findRow(deps, scope, id);
  const [slot] = await deps.db
    .select()
    .from(artifact)
    .where(and(eq(artifact.episodeId, row.id), eq(artifact.kind, kind)));
  if (!slot) throw new NotFoundError(`Episode has no ${kind} artifact`);
  let contentType = slot.contentType;
  if (slot.uploadedAt === null) {
    const { obj } = await statWithinLimit(deps, slot, false);
    if (!obj) throw new NotFoundError(`The ${kind} artifact was never uploaded`);
    contentType = obj.contentType;
  }
  const signed = await deps.store.signDownload(slot.storageKey, {
    expiresInS: deps.limits.downloadUrlTtlS,
    baseUrl: ctx.baseUrl,
    contentType,
  });
  return signed.url;
}

interface Cursor {
  t: string;
  id: string;
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ t: row.createdAt.toISOString(), id: row.id })).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Cursor;
    if (typeof c.t === 'string' && !Number.isNaN(Date.parse(c.t)) && typeof c.id === 'string' && isUuid(c.id))
      return c;
  } catch {
    // fall through
  }
  throw new ValidationError('Invalid query: cursor: not a cursor returned by this API', {
    issues: [{ path: 'cursor', message: 'invalid cursor' }],
  });
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The WHERE clause of a list: project scope first, then filters; `q` may be a trace reference. */
export function episodeFilters(scope: ProjectScope, query: Omit<ListEpisodesQuery, 'limit' | 'cursor'>): SQL {
  // A filter PostgreSQL cannot compare (a NUL) matches what its stored replacement would.
  const q = storableJson(query).value;
  const where: (SQL | undefined)[] = [eq(episode.projectId, scope.projectId)];
  const traceRef = q.q ? parseTraceLookup(q.q) : null;
  const traceId = q.trace_id ? (parseTraceLookup(q.trace_id)?.trace_id ?? q.trace_id) : traceRef?.trace_id;
  const spanId = q.span_id ? q.span_id.trim().toLowerCase() : traceRef?.span_id;
  if (traceId) where.push(eq(episode.traceId, traceId));
  if (spanId) where.push(eq(episode.spanId, spanId));
  if (q.q && !traceRef) {
    // A fragment of the name, robot, policy version or git sha: the expression the trigram index is built on.
    const text = q.q.trim();
    where.push(ilike(episodeSearchText(episode), `%${escapeLike(text)}%`));
  }
  if (q.status) where.push(eq(episode.status, q.status));
  if (q.source) where.push(eq(episode.source, q.source));
  if (q.policy_version) where.push(eq(episode.policyVersion, q.policy_version));
  if (q.robot) where.push(eq(episode.robot, q.robot));
  if (q.created_after) where.push(gte(episode.createdAt, new Date(q.created_after)));
  if (q.created_before) where.push(lte(episode.createdAt, new Date(q.created_before)));
  return and(...where) as SQL;
}

/** Newest first, keyset pagination on (created_at, id): no OFFSET scans, no count(*). */
export async function listEpisodes(
  deps: CoreDeps,
  scope: ProjectScope,
  query: ListEpisodesQuery,
  ctx: RequestContext,
): Promise<ListEpisodesResponse> {
  const where = [episodeFilters(scope, query)];
  if (query.cursor) {
    const c = decodeCursor(query.cursor);
    where.push(sql`(${episode.createdAt}, ${episode.id}) < (${c.t}::timestamptz, ${c.id}::uuid)`);
  }
  const rows = await deps.db
    .select()
    .from(episode)
    .where(and(...where))
    // NULLS LAST as in the indexes (drizzle-kit writes `.desc()` as DESC NULLS LAST): with the default NULLS
    // FIRST, PostgreSQL cannot walk episode_project_*_created_idx and sorts every row of the project instead.
    .orderBy(sql`${episode.createdAt} desc nulls last`, sql`${episode.id} desc nulls last`)
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const artifacts = await loadArtifacts(
    deps,
    page.map((r) => r.id),
  );
  const last = page.at(-1);
  return {
    data: page.map((r) => toEpisode(r, artifacts.get(r.id) ?? [], ctx.baseUrl)),
    next_cursor: rows.length > query.limit && last ? encodeCursor(last) : null,
  };
}

/** Every episode of one trace in the project, in time order (the trace page). */
export async function episodesOfTrace(
  deps: CoreDeps,
  scope: ProjectScope,
  traceId: string,
  ctx: RequestContext,
  limit = 500,
): Promise<Episode[]> {
  const rows = await deps.db
    .select()
    .from(episode)
    .where(and(eq(episode.projectId, scope.projectId), eq(episode.traceId, traceId)))
    .orderBy(asc(episode.createdAt), asc(episode.id))
    .limit(limit);
  const artifacts = await loadArtifacts(
    deps,
    rows.map((r) => r.id),
  );
  return rows.map((r) => toEpisode(r, artifacts.get(r.id) ?? [], ctx.baseUrl));
}
