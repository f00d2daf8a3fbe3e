import { type AnyColumn, type SQL, sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

// ---- Better Auth's core tables (the portal signs in through Better Auth; column names follow its schema). ----

export const user = pgTable('user', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email').notNull().unique(),
  emailVerified: boolean('email_verified').notNull().default(false),
  image: text('image'),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

export const session = pgTable(
  'session',
  {
    id: text('id').primaryKey(),
    expiresAt: tz('expires_at').notNull(),
    token: text('token').notNull().unique(),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
  },
  (t) => [index('session_user_idx').on(t.userId)],
);

export const account = pgTable(
  'account',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    providerId: text('provider_id').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    accessToken: text('access_token'),
    refreshToken: text('refresh_token'),
    idToken: text('id_token'),
    accessTokenExpiresAt: tz('access_token_expires_at'),
    refreshTokenExpiresAt: tz('refresh_token_expires_at'),
    scope: text('scope'),
    password: text('password'),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [index('account_user_idx').on(t.userId)],
);

export const verification = pgTable('verification', {
  id: text('id').primaryKey(),
  identifier: text('identifier').notNull(),
  value: text('value').notNull(),
  expiresAt: tz('expires_at').notNull(),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

// ---- RoboTrace's own tables. ----

export const project = pgTable('project', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: tz('created_at').notNull().defaultNow(),
});

export const projectMember = pgTable(
  'project_member',
  {
    projectId: uuid('project_id')
      .notNull()
      .references(() => project.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    role: text('role').notNull().default('owner'),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.userId] }), index('project_member_user_idx').on(t.userId)],
);

/** API keys: only the SHA-256 of the key is stored; `prefix` is what the portal shows. */
export const apiKey = pgTable(
  'api_key',
  {
    id: uuid('id').primaryKey(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => project.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    hash: text('hash').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    lastUsedAt: tz('last_used_at'),
    revokedAt: tz('revoked_at'),
  },
  (t) => [uniqueIndex('api_key_hash_idx').on(t.hash), index('api_key_project_idx').on(t.projectId)],
);

/**
 * What the search box matches against: name, robot, policy version and git sha, joined by a newline (a fragment
 * the user types cannot span two fields without one). The trigram index is on exactly this expression, and the
 * list query (core's episodeFilters) writes it the same way so PostgreSQL can match the two.
 */
export function episodeSearchText(t: {
  name: AnyColumn;
  robot: AnyColumn;
  policyVersion: AnyColumn;
  gitSha: AnyColumn;
}): SQL {
  const nl = sql.raw("E'\\n'");
  return sql`(coalesce(${t.name}, '') || ${nl} || coalesce(${t.robot}, '') || ${nl} || coalesce(${t.policyVersion}, '') || ${nl} || coalesce(${t.gitSha}, ''))`;
}

export const episode = pgTable(
  'episode',
  {
    id: uuid('id').primaryKey(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => project.id, { onDelete: 'cascade' }),
    name: text('name'),
    source: text('source').notNull(),
    status: text('status').notNull(),
    robot: text('robot'),
    policyVersion: text('policy_version'),
    envVersion: text('env_version'),
    gitSha: text('git_sha'),
    seed: bigint('seed', { mode: 'number' }),
    fps: doublePrecision('fps'),
    durationS: doublePrecision('duration_s'),
    failureTimeS: doublePrecision('failure_time_s'),
    bytesTotal: bigint('bytes_total', { mode: 'number' }),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    traceId: text('trace_id'),
    spanId: text('span_id'),
    // The episode's start on the robot's clock as its SDK sent it (Unix ns): the span lane aligns on it.
    clientStartNs: bigint('client_start_ns', { mode: 'bigint' }),
    // A create sent with an Idempotency-Key: SHA-256 (hex) of its raw body. The key itself is the id (ids.ts
    // episodeIdForKey); a retry with another body under the same key is told apart by this, and refused (409).
    requestHash: text('request_hash'),
    createdAt: tz('created_at').notNull().defaultNow(),
    finalizedAt: tz('finalized_at'),
  },
  (t) => [
    // Newest-first keyset pagination within a project.
    index('episode_project_created_idx').on(t.projectId, t.createdAt.desc(), t.id.desc()),
    index('episode_project_status_created_idx').on(t.projectId, t.status, t.createdAt.desc(), t.id.desc()),
    index('episode_project_trace_idx')
      .on(t.projectId, t.traceId, t.createdAt)
      .where(sql`${t.traceId} is not null`),
    index('episode_project_span_idx').on(t.projectId, t.spanId).where(sql`${t.spanId} is not null`),
    index('episode_project_policy_idx').on(t.projectId, t.policyVersion, t.createdAt.desc()),
    // The portal's robot filter (bench/portal: 415 ms at 1M rows without it when nothing matches).
    index('episode_project_robot_idx').on(t.projectId, t.robot, t.createdAt.desc()),
    // The search box (`q=`, a substring of any of these fields): one trigram index (pg_trgm, loaded on PGlite
    // too) over the fields joined, so a 3+ character fragment is an index scan, not a read of every row.
    // A small pending list (64 kB, GIN's minimum; the default is 4 MB): while rows wait in a large one, the
    // planner prices the index past a read of the whole table (bench/portal at 20k rows: a 25 ms sequential
    // scan, 0.3 ms once merged). Switching the list off instead costs every insert the full merge (measured on
    // PostgreSQL: 0.3 ms per row in bulk vs 0.07 ms with the small list). Its expression keeps 3,001 histogram
    // bounds instead of 101 (migration 0012, which drizzle cannot express): with 101, a rare fragment that one
    // bound happened to contain was priced at 1 % of the rows and walked the newest-first index (0.4-1.2 s at 1M).
    index('episode_search_trgm_idx')
      .using('gin', sql`${episodeSearchText(t)} gin_trgm_ops`)
      .with({ fastupdate: true, gin_pending_list_limit: 64 }),
  ],
);

/** One row per requested artifact slot; `uploadedAt` is set once the bytes are completely stored. */
export const artifact = pgTable(
  'artifact',
  {
    episodeId: uuid('episode_id')
      .notNull()
      .references(() => episode.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    storageKey: text('storage_key').notNull(),
    contentType: text('content_type'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    uploadedAt: tz('uploaded_at'),
  },
  (t) => [primaryKey({ columns: [t.episodeId, t.kind] })],
);

/**
 * Replay: what was found in one uploaded sensors/actions file — its tracks (name, columns, dtype, samples, time
 * range, where each array's bytes are) and per-file warnings. The file itself stays in the artifact store.
 */
export const trackIndex = pgTable(
  'track_index',
  {
    episodeId: uuid('episode_id')
      .notNull()
      .references(() => episode.id, { onDelete: 'cascade' }),
    artifactKind: text('artifact_kind').notNull(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => project.id, { onDelete: 'cascade' }),
    format: text('format').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    indexedAt: tz('indexed_at').notNull(),
    warnings: jsonb('warnings').$type<string[]>().notNull().default([]),
    tracks: jsonb('tracks').$type<unknown[]>().notNull().default([]),
  },
  (t) => [
    primaryKey({ columns: [t.episodeId, t.artifactKind] }),
    index('track_index_project_episode_idx').on(t.projectId, t.episodeId),
  ],
);

/**
 * Stored responses of Idempotency-Key'd requests (kept ≥ 24 h). Migration 0010 keeps a row inline and
 * uncompressed up to ~8 KB (toast_tuple_target): a create's answer with presigned upload URLs passed the 2 KB
 * default, and compressing it cost each keyed create more than the rest of its key row.
 */
export const idempotencyKey = pgTable(
  'idempotency_key',
  {
    projectId: uuid('project_id').notNull(),
    key: text('key').notNull(),
    scope: text('scope').notNull(),
    requestHash: text('request_hash').notNull(),
    status: integer('status').notNull(),
    body: jsonb('body').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.scope, t.key] }),
    // BRIN, not a B-tree: the index only serves the hourly prune (created_at < cutoff, rows arrive in
    // created_at order), and a B-tree entry per keyed create cost the ingest path a tree insert per row.
    index('idempotency_created_brin').using('brin', t.createdAt),
  ],
);

/** Token buckets shared by every instance (rate limits per API key and per project). */
export const rateLimit = pgTable('rate_limit', {
  bucket: text('bucket').primaryKey(),
  tokens: doublePrecision('tokens').notNull(),
  lastAllowed: boolean('last_allowed').notNull().default(true),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

// ---- The other pillars: CLI device login, eval runs, release verification, failure insights. ----

/**
 * One `robotrace login` in progress. Only the SHA-256 of the device code (the CLI's secret) is stored; the API
 * key is minted by the poll that first finds the login approved (so no plain key is ever stored here).
 */
export const deviceLogin = pgTable(
  'device_login',
  {
    id: uuid('id').primaryKey(),
    deviceCodeHash: text('device_code_hash').notNull(),
    userCode: text('user_code').notNull(),
    hostname: text('hostname'),
    userAgent: text('user_agent'),
    ip: text('ip'),
    /** pending → approved → consumed, or pending → denied. Expiry is `expires_at`, not a status. */
    status: text('status').notNull(),
    createdAt: tz('created_at').notNull(),
    expiresAt: tz('expires_at').notNull(),
    lastPolledAt: tz('last_polled_at'),
    userId: text('user_id').references(() => user.id, { onDelete: 'cascade' }),
    userEmail: text('user_email'),
    projectId: uuid('project_id').references(() => project.id, { onDelete: 'cascade' }),
    apiKeyId: uuid('api_key_id'),
  },
  (t) => [
    uniqueIndex('device_login_device_code_idx').on(t.deviceCodeHash),
    uniqueIndex('device_login_user_code_idx').on(t.userCode),
    index('device_login_expires_idx').on(t.expiresAt),
  ],
);

/** An eval run: a candidate policy replayed against baseline episodes (one eval_result per baseline). */
export const evalRun = pgTable(
  'eval_run',
  {
    id: uuid('id').primaryKey(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => project.id, { onDelete: 'cascade' }),
    name: text('name'),
    candidatePolicyVersion: text('candidate_policy_version').notNull(),
    baselinePolicyVersion: text('baseline_policy_version'),
    /** pending (no result yet) → running → completed | failed | cancelled (finalized). */
    status: text('status').notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    summary: jsonb('summary').$type<Record<string, unknown>>(),
    createdAt: tz('created_at').notNull(),
    finalizedAt: tz('finalized_at'),
  },
  (t) => [index('eval_run_project_created_idx').on(t.projectId, t.createdAt.desc(), t.id.desc())],
);

export const evalResult = pgTable(
  'eval_result',
  {
    id: uuid('id').primaryKey(),
    evalRunId: uuid('eval_run_id')
      .notNull()
      .references(() => evalRun.id, { onDelete: 'cascade' }),
    baselineEpisodeId: uuid('baseline_episode_id').notNull(),
    candidateEpisodeId: uuid('candidate_episode_id'),
    /** pending | complete | failed */
    status: text('status').notNull(),
    metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull().default({}),
    error: text('error'),
    position: integer('position').notNull(),
    updatedAt: tz('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('eval_result_run_baseline_idx').on(t.evalRunId, t.baselineEpisodeId),
    // Deleting an episode asks which eval runs reference it, as a baseline or as a candidate.
    index('eval_result_baseline_episode_idx').on(t.baselineEpisodeId),
    index('eval_result_candidate_episode_idx')
      .on(t.candidateEpisodeId)
      .where(sql`${t.candidateEpisodeId} is not null`),
  ],
);

/** A baseline episode promoted into the release gate. One per (project, baseline episode). */
export const verifyScenario = pgTable(
  'verify_scenario',
  {
    id: uuid('id').primaryKey(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => project.id, { onDelete: 'cascade' }),
    baselineEpisodeId: uuid('baseline_episode_id')
      .notNull()
      .references(() => episode.id, { onDelete: 'cascade' }),
    name: text('name'),
    description: text('description'),
    /** critical | warning | info */
    severity: text('severity').notNull(),
    createdAt: tz('created_at').notNull(),
    retiredAt: tz('retired_at'),
  },
  (t) => [uniqueIndex('verify_scenario_project_baseline_idx').on(t.projectId, t.baselineEpisodeId)],
);

export const verifyResult = pgTable(
  'verify_result',
  {
    id: uuid('id').primaryKey(),
    scenarioId: uuid('scenario_id')
      .notNull()
      .references(() => verifyScenario.id, { onDelete: 'cascade' }),
    projectId: uuid('project_id').notNull(),
    candidatePolicyVersion: text('candidate_policy_version').notNull(),
    /** pass | fail | error */
    status: text('status').notNull(),
    metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull().default({}),
    candidateEpisodeId: uuid('candidate_episode_id'),
    evalRunId: uuid('eval_run_id'),
    error: text('error'),
    createdAt: tz('created_at').notNull(),
  },
  (t) => [
    index('verify_result_scenario_version_idx').on(t.scenarioId, t.candidatePolicyVersion, t.createdAt),
  ],
);

/** Every gate check answered (the verify page's history). */
export const verifyCheck = pgTable(
  'verify_check',
  {
    id: uuid('id').primaryKey(),
    projectId: uuid('project_id')
      .notNull()
      .references(() => project.id, { onDelete: 'cascade' }),
    candidatePolicyVersion: text('candidate_policy_version').notNull(),
    passed: boolean('passed').notNull(),
    body: jsonb('body').$type<Record<string, unknown>>().notNull(),
    createdAt: tz('created_at').notNull(),
  },
  (t) => [index('verify_check_project_created_idx').on(t.projectId, t.createdAt.desc())],
);

/** The failure analyzer's last answer for an episode (ranked findings, its own errors, its version). */
export const episodeInsight = pgTable('episode_insight', {
  episodeId: uuid('episode_id')
    .primaryKey()
    .references(() => episode.id, { onDelete: 'cascade' }),
  projectId: uuid('project_id').notNull(),
  analyzerVersion: integer('analyzer_version').notNull(),
  /** running | done | error */
  status: text('status').notNull(),
  findings: jsonb('findings').$type<unknown[]>().notNull().default([]),
  errors: jsonb('errors').$type<string[]>().notNull().default([]),
  startedAt: tz('started_at').notNull(),
  finishedAt: tz('finished_at'),
});

// ---- Data lifecycle (issue 20): retention per project and the storage deletions still to complete. ----

/** A project's retention ("keep N days", failed ones M days; null keeps forever) and its last sweep's result. */
export const projectRetention = pgTable('project_retention', {
  projectId: uuid('project_id')
    .primaryKey()
    .references(() => project.id, { onDelete: 'cascade' }),
  keepDays: integer('keep_days'),
  keepFailedDays: integer('keep_failed_days'),
  updatedAt: tz('updated_at'),
  lastSweepStartedAt: tz('last_sweep_started_at'),
  lastSweepFinishedAt: tz('last_sweep_finished_at'),
  lastSweepDeleted: integer('last_sweep_deleted').notNull().default(0),
  lastSweepBytesFreed: bigint('last_sweep_bytes_freed', { mode: 'number' }).notNull().default(0),
  lastSweepErrors: integer('last_sweep_errors').notNull().default(0),
  lastSweepMessage: text('last_sweep_message'),
});

/**
 * A file whose episode is deleted and which the store has not confirmed removed yet. Written in the same
 * transaction that deletes the episode's row, so a crash between the two never leaves a file nobody knows of;
 * the sweeper (and the delete itself, right after its commit) removes the file and then this row. No foreign
 * keys: the episode is gone by then, and a deleted project's files must still be removed.
 */
export const storageDeletion = pgTable(
  'storage_deletion',
  {
    storageKey: text('storage_key').primaryKey(),
    projectId: uuid('project_id').notNull(),
    episodeId: uuid('episode_id').notNull(),
    kind: text('kind').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    createdAt: tz('created_at').notNull(),
    /** Not tried again before this (a claim's lease, a refusal's backoff, or the S3 late-upload recheck). */
    nextAttemptAt: tz('next_attempt_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** The store's last refusal (shown in the portal); null while none. */
    lastError: text('last_error'),
    /** Delete once more at next_attempt_at: a signed S3 upload URL may still land a file after the first delete. */
    recheck: boolean('recheck').notNull().default(false),
  },
  (t) => [
    index('storage_deletion_next_attempt_idx').on(t.nextAttemptAt),
    index('storage_deletion_project_idx').on(t.projectId),
  ],
);

export const schema = {
  user,
  session,
  account,
  verification,
  project,
  projectMember,
  apiKey,
  episode,
  artifact,
  trackIndex,
  idempotencyKey,
  rateLimit,
  deviceLogin,
  evalRun,
  evalResult,
  verifyScenario,
  verifyResult,
  verifyCheck,
  episodeInsight,
  projectRetention,
  storageDeletion,
};
