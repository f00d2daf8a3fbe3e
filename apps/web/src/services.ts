import { join, resolve } from 'node:path';
import { type CoreDeps, systemClock } from '@robotrace/core';
import { createDb, type DbHandle } from '@robotrace/db';
import { LocalDiskStore } from '@robotrace/storage';
import { type Auth, createAuth } from './auth.js';
import type { Env } from './env.js';
import type { Logger } from './log.js';
import { resolveSecret } from './secret.js';

/** Everything a request needs, built once at start (the composition root). */
export interface Services {
  env: Env;
  log: Logger;
  dbh: DbHandle;
  core: CoreDeps;
  /** Present when artifacts live on the local disk (the app serves the signed URLs). */
  localStore: LocalDiskStore | null;
  secret: string;
  auth: Auth;
  dataDir: string;
  close: () => Promise<void>;
}

export async function createServices(env: Env, log: Logger): Promise<Services> {
  const dataDir = resolve(env.ROBOTRACE_DATA_DIR);
  const secret = resolveSecret(env.ROBOTRACE_SECRET, dataDir);
  const dbh = env.DATABASE_URL
    ? await createDb({ kind: 'postgres', url: env.DATABASE_URL, poolMax: env.ROBOTRACE_DB_POOL_MAX })
    : await createDb({ kind: 'pglite', dataDir });
  if (!env.DATABASE_URL || env.ROBOTRACE_MIGRATE_ON_START !== false) await dbh.migrate();
  const localStore = new LocalDiskStore(join(dataDir, 'artifacts'), secret);
  await localStore.ping();
  const core: CoreDeps = {
    db: dbh.db,
    store: localStore,
    clock: systemClock,
    limits: {
      uploadUrlTtlS: env.ROBOTRACE_UPLOAD_URL_TTL_S,
      downloadUrlTtlS: env.ROBOTRACE_DOWNLOAD_URL_TTL_S,
    },
  };
  const publicUrl = env.ROBOTRACE_PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  const auth = createAuth({
    db: dbh.db,
    secret,
    baseUrl: publicUrl,
    allowSignup: env.ROBOTRACE_ALLOW_SIGNUP,
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
    secret,
    auth,
    dataDir,
    close: async () => {
      await dbh.close();
    },
  };
}
