import type { CreateEpisodeRequest, FinalizeEpisodeRequest } from '@robotrace/contracts';
import { sql } from 'drizzle-orm';
import type { CoreDeps, ProjectScope, RequestContext } from './deps.js';
import {
  applyFinalize,
  type PreparedCreate,
  planFinalize,
  prepareCreate,
  replayedCreate,
} from './episodes.js';
import { AppError, ConflictError, UnavailableError, ValidationError } from './errors.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import { checkIdempotencyKey, idempotent, type StoredResponse } from './idempotency.js';
import { scheduleInsights } from './insights/analyze.js';
import { executeNamed } from './named-statement.js';

/** What the ingest routes answer: the status, the body, and whether it replays a stored response. */
export type IngestResult = StoredResponse;

interface CreateItem {
  /** With an Idempotency-Key, prepared with the id the key derives (ids.ts) and the body's hash (row.requestHash). */
  prepared: PreparedCreate;
  /** The request's own context: a replay signs its upload URLs for the caller's origin. */
  ctx: RequestContext;
}

interface FinalizeItem {
  run: (deps: CoreDeps) => Promise<IngestResult>;
  /** Locks are taken in this order inside a batch (fewer deadlocks between batches on PostgreSQL). */
  order: string;
}

const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

const INPUT = (input: string) => sql`
with input as (
  select * from jsonb_to_recordset(${input}::jsonb) as x(
    i int, id uuid, project_id uuid, name text, source text, robot text, policy_version text, env_version text,
    git_sha text, seed bigint, fps double precision, metadata jsonb, trace_id text, span_id text,
    client_start_ns bigint, request_hash text, created_at timestamptz, slots jsonb)
)`;
const INSERT_EPISODES = sql.raw(`
  insert into episode (id, project_id, name, source, status, robot, policy_version, env_version, git_sha, seed,
    fps, metadata, trace_id, span_id, client_start_ns, request_hash, created_at)
  select id, project_id, name, source, 'recording', robot, policy_version, env_version, git_sha, seed, fps,
    metadata, trace_id, span_id, client_start_ns, request_hash, created_at from input`);
const INSERT_SLOTS = (from: 'input' | 'todo') =>
  sql.raw(`
  insert into artifact (episode_id, kind, storage_key)
  select ${from}.id, s.kind, s.storage_key
  from ${from}, jsonb_to_recordset(${from}.slots) as s(kind text, storage_key text)`);

/**
 * How a batch meets ids already taken (a keyed create's id is its key's: a retry's row has the id of the first).
 * `fresh`: a plain insert, so the batch is written whole or not at all: nearly every key is new (the SDKs send
 * a fresh one per call), and then a keyed create is exactly as cheap as a plain one. `any`: `on conflict do
 * nothing`, only the items whose id was free are written and the others replay — what a batch is written again
 * with when `fresh` met an id in use (23505, nothing written).
 */
type Claim = 'fresh' | 'any';

/**
 * One statement writes a whole batch of creates, atomically (it is its own transaction); an id another
 * transaction is inserting is waited for. The input is one JSON parameter, so the statement text is the same
 * for every batch size.
 */
const CREATE_FRESH = (input: string, slots: boolean) => sql`${INPUT(input)}
, episodes as (${INSERT_EPISODES})
${slots ? sql`, slots as (${INSERT_SLOTS('input')})` : sql``}
select count(*)::int as n from input`;

/** Writes the items whose id was free, and names them. */
const CREATE_ANY = (input: string) => sql`${INPUT(input)},
episodes as (${INSERT_EPISODES}
  on conflict (id) do nothing
  returning id
),
todo as (select input.* from input join episodes on episodes.id = input.id),
slots as (${INSERT_SLOTS('todo')})
select i from todo`;

/** The episodes keyed creates met (read after the request that wrote one committed): its body hash and birth. */
const STORED = (input: string) => sql`
select x.i, e.request_hash, (extract(epoch from e.created_at) * 1000)::float8 as created_ms
from jsonb_to_recordset(${input}::jsonb) as x(i int, project_id uuid, id uuid)
join episode e on e.id = x.id and e.project_id = x.project_id`;

function inputRow(item: CreateItem, i: number) {
  const { row, slots } = item.prepared;
  return {
    i,
    id: row.id,
    project_id: row.projectId,
    name: row.name,
    source: row.source,
    robot: row.robot,
    policy_version: row.policyVersion,
    env_version: row.envVersion,
    git_sha: row.gitSha,
    seed: row.seed,
    fps: row.fps,
    metadata: row.metadata,
    trace_id: row.traceId,
    span_id: row.spanId,
    client_start_ns: row.clientStartNs?.toString() ?? null,
    request_hash: row.requestHash ?? null,
    created_at: row.createdAt.toISOString(),
    slots: slots.map((s) => ({ kind: s.kind, storage_key: s.storageKey })),
  };
}

const sqlState = (err: unknown): string | undefined => {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = cause;
  }
  return undefined;
};

/**
 * A row the database refused, as the caller's own 4xx: data it cannot store (class 22: out of range, bad
 * text) is a 400, a broken constraint (class 23, e.g. the project was deleted meanwhile) a 409, a deadlock or
 * serialization failure a 503 to retry. Anything else (a lost connection) passes through unchanged.
 */
export function rowError(err: unknown): unknown {
  const state = sqlState(err);
  if (err instanceof AppError || !state) return err;
  const reason = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
  if (state.startsWith('22'))
    return new ValidationError(`The database cannot store this episode: ${reason}`, { sqlstate: state });
  if (state.startsWith('23'))
    return new ConflictError(`The database refused this episode: ${reason}`, { sqlstate: state });
  if (state === '40P01' || state === '40001')
    return new UnavailableError('The write collided with a concurrent one; retry', 1);
  return err;
}

/**
 * Answers of the keyed items whose episode an earlier request made: the first answer again (rebuilt, see
 * replayedCreate), or 409 for another body under the same key.
 */
async function replays(deps: CoreDeps, items: CreateItem[], indexes: number[]) {
  const out = new Map<number, PromiseSettledResult<IngestResult>>();
  if (indexes.length === 0) return out;
  const input = JSON.stringify(
    indexes.map((i) => ({ i, project_id: items[i]?.prepared.row.projectId, id: items[i]?.prepared.row.id })),
  );
  const rows = rowsOf<{ i: number; request_hash: string | null; created_ms: number | string }>(
    await deps.db.execute(STORED(input)),
  );
  const byIndex = new Map(rows.map((r) => [Number(r.i), r]));
  for (const i of indexes) {
    const stored = byIndex.get(i);
    const item = items[i] as CreateItem;
    const requestHash = item.prepared.row.requestHash;
    if (!stored || !requestHash)
      // Written by a transaction that rolled back (or deleted) after we met it: the retry writes it.
      out.set(i, { status: 'rejected', reason: new UnavailableError('Retry this request', 1) });
    else if (stored.request_hash !== requestHash)
      out.set(i, {
        status: 'rejected',
        reason: new ConflictError('This Idempotency-Key was already used with a different request body', {
          reason: 'idempotency_key_reused',
        }),
      });
    else {
      const body = await replayedCreate(deps, item.prepared, new Date(Number(stored.created_ms)), item.ctx);
      out.set(i, { status: 'fulfilled', value: { status: 201, body, replayed: true } });
    }
  }
  return out;
}

/**
 * Writes the items in one statement. When the database refuses it (one row it cannot store fails the whole
 * statement, and nothing of it was written), each half is written again on its own, down to the bad row: only
 * that row fails, with its own error, and its neighbours are written in as few statements as that allows.
 */
async function insertIsolated(
  deps: CoreDeps,
  items: CreateItem[],
  indexes: number[],
  claim: Claim = 'fresh',
): Promise<{ written: Set<number>; failed: Map<number, unknown> }> {
  try {
    const batch = indexes.map((i) => items[i] as CreateItem);
    const input = JSON.stringify(batch.map((item, k) => inputRow(item, indexes[k] as number)));
    if (claim === 'fresh') {
      const slots = batch.some((item) => item.prepared.slots.length > 0);
      await executeNamed(deps.db, `rt_create_fresh_${+slots}`, CREATE_FRESH(input, slots));
      return { written: new Set(indexes), failed: new Map() };
    }
    const rows = rowsOf<{ i: number }>(await executeNamed(deps.db, 'rt_create_any', CREATE_ANY(input)));
    return { written: new Set(rows.map((r) => Number(r.i))), failed: new Map() };
  } catch (err) {
    // An id taken (a keyed retry, a concurrent twin): the same items again, writing only those still free.
    if (claim === 'fresh' && sqlState(err) === '23505') return insertIsolated(deps, items, indexes, 'any');
    const [only] = indexes;
    if (indexes.length === 1 && only !== undefined)
      return { written: new Set(), failed: new Map([[only, rowError(err)]]) };
    // A lost connection or a timeout fails every item alike: no point in splitting.
    if (!sqlState(err) || sqlState(err)?.startsWith('08') || sqlState(err) === '57014') throw err;
    const half = Math.ceil(indexes.length / 2);
    const left = await insertIsolated(deps, items, indexes.slice(0, half), claim);
    const right = await insertIsolated(deps, items, indexes.slice(half), claim);
    return {
      written: new Set([...left.written, ...right.written]),
      failed: new Map([...left.failed, ...right.failed]),
    };
  }
}

/** Writes creates in one statement; a key seen twice in the batch is answered from the first's stored row. */
async function writeCreates(
  deps: CoreDeps,
  items: CreateItem[],
): Promise<PromiseSettledResult<IngestResult>[]> {
  const seen = new Set<string>();
  const first: number[] = [];
  const repeats: number[] = [];
  items.forEach((item, i) => {
    // A keyed item's id is its key's (and its project's): twins in one batch share it.
    const id = item.prepared.row.requestHash ? item.prepared.row.id : undefined;
    if (id && seen.has(id)) repeats.push(i);
    else {
      if (id) seen.add(id);
      first.push(i);
    }
  });
  const { written, failed } = await insertIsolated(deps, items, first);
  // Claimed by another request first (or earlier in this batch): its stored answer.
  const lost = first.filter((i) => !written.has(i) && !failed.has(i));
  const replayed = await replays(deps, items, [...lost, ...repeats]);
  return items.map((item, i): PromiseSettledResult<IngestResult> => {
    if (written.has(i))
      return { status: 'fulfilled', value: { status: 201, body: item.prepared.response, replayed: false } };
    if (failed.has(i)) return { status: 'rejected', reason: failed.get(i) };
    return replayed.get(i) ?? { status: 'rejected', reason: new Error('create batch lost an item') };
  });
}

/**
 * Finalizes in one transaction, each in its own savepoint: one commit for the batch, and an item that fails
 * (a 409, a refused row) rolls back only its own savepoint. The store was asked beforehand (planFinalize).
 */
async function writeFinalizes(
  deps: CoreDeps,
  items: FinalizeItem[],
): Promise<PromiseSettledResult<IngestResult>[]> {
  if (items.length === 1 && items[0]) {
    const only = items[0];
    return Promise.allSettled([only.run(deps).catch((err: unknown) => Promise.reject(rowError(err)))]);
  }
  const order = items
    .map((_, i) => i)
    .sort((a, b) => (items[a]?.order ?? '').localeCompare(items[b]?.order ?? ''));
  const results: PromiseSettledResult<IngestResult>[] = new Array(items.length);
  await deps.db.transaction(async (tx) => {
    for (const i of order) {
      const item = items[i] as FinalizeItem;
      try {
        const value = await tx.transaction((sp) => item.run({ ...deps, db: sp }));
        results[i] = { status: 'fulfilled', value };
      } catch (err) {
        results[i] = { status: 'rejected', reason: rowError(err) };
      }
    }
  });
  return results;
}

export interface IngestBatcher {
  create: (
    scope: ProjectScope,
    body: CreateEpisodeRequest,
    ctx: RequestContext,
    idempotency?: { key: string; rawBody: string },
  ) => Promise<IngestResult>;
  finalize: (
    scope: ProjectScope,
    id: string,
    body: FinalizeEpisodeRequest,
    ctx: RequestContext,
    idempotency?: { key: string; rawBody: string },
  ) => Promise<IngestResult>;
  /** Batches written so far and the items in them, per kind. */
  stats: () => { creates: { batches: number; items: number }; finalizes: { batches: number; items: number } };
}

/**
 * Group commit of the ingest path: concurrent creates become one multi-row statement, concurrent finalizes one
 * transaction. Every caller is answered after the commit that wrote its row, with its own result or error;
 * an Idempotency-Key replays the stored answer as before (idempotency.ts semantics).
 */
export function ingestBatcher(deps: CoreDeps, options: GroupCommitOptions): IngestBatcher {
  const creates = new GroupCommit<CreateItem, IngestResult>((items) => writeCreates(deps, items), options);
  const finalizes = new GroupCommit<FinalizeItem, IngestResult>(
    (items) => writeFinalizes(deps, items),
    options,
  );
  return {
    create: async (scope, body, ctx, idempotency) => {
      if (idempotency) checkIdempotencyKey(idempotency.key);
      return creates.submit({ prepared: await prepareCreate(deps, scope, body, ctx, idempotency), ctx });
    },
    finalize: async (scope, id, body, ctx, idempotency) => {
      if (idempotency) checkIdempotencyKey(idempotency.key);
      const plan = await planFinalize(deps, scope, id, body, ctx);
      const work = async (d: CoreDeps) => ({ status: 200, body: await applyFinalize(d, plan) });
      // Failure insights: queued now, run once the row reads `failed` (after this batch commits), off this request.
      if (body.status === 'failed') scheduleInsights(deps, scope, plan.current.id);
      return finalizes.submit({
        order: plan.current.id,
        run: idempotency
          ? (d) =>
              idempotent(
                d,
                scope,
                { key: idempotency.key, operation: `finalize:${id}`, rawBody: idempotency.rawBody },
                work,
              )
          : async (d) => ({ ...(await work(d)), replayed: false }),
      });
    },
    stats: () => ({ creates: { ...creates.stats }, finalizes: { ...finalizes.stats } }),
  };
}
