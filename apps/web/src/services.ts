import { join, resolve } from 'node:path';
import {
  type Clock,
  ColumnCache,
  type CoreDeps,
  cacheApiKeysFor,
  systemClock,
  TRACE_SOURCE_DEFAULTS,
  TraceSource,
} from '@robotrace/core';
import { type DbHandle, pendingMigrations } from '@robotrace/db';
import { type ArtifactStore, LocalDiskStore, S3Store } from '@robotrace/storage';
import { type Auth, createAuth } from './auth.js';
import { openDatabase } from './database.js';
import { ConfigError, type Env } from './env.js';
import type { Logger } from './log.js';
import { resolveSecret } from './secret.js';

/** Everything a request needs, built once at start (the composition root). */
/** Disk for decoded copies of deflated members and table columns (derived data, cleared at start). */
const TRACK_CACHE_MAX_BYTES = 2 * 1024 ** 3;

export interface Services {
  env: Env;
  log: Logger;
  dbh: DbHandle;
  core: CoreDeps;
  /** Present when artifacts live on the local disk (the app serves the signed URLs). */
  localStore: LocalDiskStore | null;
  /** Decoded copies of track data under <data dir>/cache/tracks (routes/tracks.ts), forgotten with their files. */
  trackCache: ColumnCache;
  auth: Auth;
  dataDir: string;
  close: () => Promise<void>;
}

/** `clock`: what core and the local store read the time from (tests pass a manual one; both must agree, since
 * an upload URL's lifetime counts from its episode's creation). */
export async function createServices(env: Env, log: Logger, clock: Clock = systemClock): Promise<Services> {
  const dataDir = resolve(env.ROBOTRACE_DATA_DIR);
  const secret = resolveSecret(env.ROBOTRACE_SECRET, dataDir);
  const dbh = await openDatabase(env);
  // The embedded DB has one owner (this process), so key lookups can be cached with exact invalidation; a shared
  // PostgreSQL caches them for ROBOTRACE_API_KEY_CACHE_MS, the bound on another instance's revocation.
  if (dbh.kind === 'pglite') cacheApiKeysFor(dbh);
  else cacheApiKeysFor(dbh, env.ROBOTRACE_API_KEY_CACHE_MS);
  await prepareSchema(env, dbh);
  const { store, localStore } = await createStore(env, dataDir, secret, clock);
  const trackCache = new ColumnCache(join(dataDir, 'cache', 'tracks'), TRACK_CACHE_MAX_BYTES);
  const core: CoreDeps = {
    db: dbh.db,
    store,
    clock,
    limits: {
      uploadUrlTtlS: env.ROBOTRACE_UPLOAD_URL_TTL_S,
      downloadUrlTtlS: env.ROBOTRACE_DOWNLOAD_URL_TTL_S,
      // The local upload route enforces these while streaming; S3 uploads are checked at finalize.
      maxUploadBytes: (kind) =>
        ({
          video: env.ROBOTRACE_MAX_UPLOAD_BYTES_VIDEO,
          sensors: env.ROBOTRACE_MAX_UPLOAD_BYTES_SENSORS,
          actions: env.ROBOTRACE_MAX_UPLOAD_BYTES_ACTIONS,
        })[kind] ?? env.ROBOTRACE_MAX_UPLOAD_BYTES,
    },
    traceSource: createTraceSource(env),
    derivedCopies: trackCache,
  };
  const publicUrl = env.ROBOTRACE_PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  const auth = createAuth({
    db: dbh.db,
    secret,
    baseUrl: publicUrl,
    allowSignup: env.ROBOTRACE_ALLOW_SIGNUP,
    signInPerMinute: env.ROBOTRACE_SIGNIN_ATTEMPTS_PER_MINUTE,
    trustedOrigins: (request) => {
      const origins = [publicUrl];
      const host = request?.headers.get('host');
      if (host) origins.push(`http://${host}`, `https://${host}`);
      return origins;
    },
  });
  return {
    env,
    log,
    dbh,
    core,
    localStore,
    trackCache,
    auth,
    dataDir,
    close: async () => {
      if (store instanceof S3Store) store.close();
      await dbh.close();
    },
  };
}

/** The team's trace backend, when ROBOTRACE_TRACE_SOURCE names one (its headers stay in this object only). */
function createTraceSource(env: Env): TraceSource | undefined {
  const source = env.ROBOTRACE_TRACE_SOURCE;
  if (!source) return undefined;
  return new TraceSource({
    ...TRACE_SOURCE_DEFAULTS,
    kind: source.kind,
    url: source.url,
    headers: env.ROBOTRACE_TRACE_SOURCE_HEADERS,
    timeoutMs: env.ROBOTRACE_TRACE_SOURCE_TIMEOUT_MS,
    ttlMs: env.ROBOTRACE_TRACE_SOURCE_CACHE_TTL_S * 1000,
    // A miss is kept briefly whatever the TTL: exporters batch, a trace arrives seconds after the episode.
    missTtlMs: Math.min(TRACE_SOURCE_DEFAULTS.missTtlMs, env.ROBOTRACE_TRACE_SOURCE_CACHE_TTL_S * 1000),
  });
}

/**
 * The embedded DB belongs to this one process: it always migrates. PostgreSQL is shared by every instance, so an
 * instance migrates only when told (ROBOTRACE_MIGRATE_ON_START=1, or `npm run db:migrate` as a deploy step) and
 * otherwise refuses to start on a schema older than its code.
 */
async function prepareSchema(env: Env, dbh: DbHandle): Promise<void> {
  if (!env.DATABASE_URL || env.ROBOTRACE_MIGRATE_ON_START === true) {
    await dbh.migrate();
    return;
  }
  const pending = await pendingMigrations(dbh.db);
  if (pending > 0) {
    await dbh.close();
    throw new ConfigError(
      `the database schema is ${pending} migration(s) behind this version: run \`npm run db:migrate\` once, or start one instance with ROBOTRACE_MIGRATE_ON_START=1`,
    );
  }
}

async function createStore(
  env: Env,
  dataDir: string,
  secret: string,
  clock: Clock,
): Promise<{ store: ArtifactStore; localStore: LocalDiskStore | null }> {
  if (env.ROBOTRACE_STORAGE === 's3' && env.S3_BUCKET) {
    const store = new S3Store({
      bucket: env.S3_BUCKET,
      region: env.S3_REGION,
      endpoint: env.S3_ENDPOINT,
      publicEndpoint: env.S3_PUBLIC_ENDPOINT,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      credentials:
        env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
          ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
          : undefined,
    });
    // Fail the start, not the first upload, when the bucket is unreachable or the credentials are wrong.
    try {
      await store.ping();
    } catch (err) {
      store.close();
      // HeadBucket answers with a status only: name the two an operator can fix, else pass the SDK's words on.
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const where = env.S3_ENDPOINT ?? `AWS S3 (${env.S3_REGION})`;
      throw new ConfigError(
        status === 404
          ? `S3 bucket "${env.S3_BUCKET}" does not exist at ${where}: create it (DEPLOY.md §2)`
          : status === 403
            ? `S3 bucket "${env.S3_BUCKET}" at ${where} refused these credentials (403): check S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY and the bucket policy (DEPLOY.md §2)`
            : `cannot reach S3 bucket "${env.S3_BUCKET}" at ${where}: ${(err as Error).name} ${(err as Error).message}`.trim(),
      );
    }
    return { store, localStore: null };
  }
  const nowS = () => Math.floor(clock.now().getTime() / 1000);
  const localStore = new LocalDiskStore(join(dataDir, 'artifacts'), secret, nowS, {
    abandonedUploadMaxAgeS: env.ROBOTRACE_ABANDONED_UPLOAD_MAX_AGE_S,
  });
  await localStore.ping();
  return { store: localStore, localStore };
}
