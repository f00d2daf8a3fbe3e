import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, anyUserExists, pruneIdempotencyKeys, pruneSignInBuckets } from '@robotrace/core';
import { DatabaseConnectError, DataDirLockedError, describeTarget } from '@robotrace/db';
import { createApp } from './app.js';
import { bootstrap } from './bootstrap.js';
import { ConfigError, loadEnv } from './env.js';
import { createLogger } from './log.js';
import { createPortal } from './portal/index.js';
import { createServices } from './services.js';
import { startSweeper } from './sweeper.js';

/** `npm start`: validate config, open the DB (migrations at start, not on the first request), serve. */
async function main(): Promise<void> {
  const env = loadEnv();
  const log = createLogger(env.ROBOTRACE_LOG_LEVEL);
  const services = await createServices(env, log);
  await bootstrap(services.dbh.db, env, log);
  // Temp files of uploads cut off by a crash (kill -9, power loss). The embedded data dir is locked to this
  // process, so all of them are stale at start; a disk shared by several instances keeps the last hour's.
  const sweepPartials = (olderThanMs: number) =>
    services.localStore
      ?.removeStalePartials(olderThanMs)
      .then((n) => {
        if (n > 0) log.info('removed temp files of interrupted uploads', { files: n });
      })
      .catch((err: unknown) =>
        log.warn('sweeping upload temp files failed', { error: (err as Error).message }),
      );
  await sweepPartials(services.dbh.kind === 'pglite' ? -1 : 3_600_000);
  const portal = createPortal(services);
  // Node's default 16 KiB for the request line and headers is less than a valid list query can take (`q` and
  // `trace_id` are up to 2,000 characters each, up to 9 bytes per character once percent-encoded): past it,
  // Node answers 431 before the API can. 64 KiB holds every request the contract allows.
  const server = createServer({ maxHeaderSize: 64 * 1024 }, createApp(services, portal));
  // Large uploads may take longer than Node's default 5-minute request timeout; idle sockets still time out.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.setTimeout(120_000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, env.HOST, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  const embedded = services.dbh.kind === 'pglite';
  // Read after the bootstrap: the banner says what is true of this database, not what a fresh one would be.
  const hasOwner = await anyUserExists({ db: services.dbh.db });
  process.stdout.write(
    [
      `RoboTrace listening on ${url}`,
      `  data: ${embedded ? `${services.dataDir} (embedded PGlite + local disk)` : `PostgreSQL at ${describeTarget(env.DATABASE_URL ?? '')}, artifacts ${env.ROBOTRACE_STORAGE === 's3' ? `in S3 bucket "${env.S3_BUCKET}"` : 'on local disk'}`}`,
      hasOwner
        ? `  portal: ${url}/portal — sign in with the owner account (or one the owner made)`
        : `  portal: ${url}/portal — no account yet: the first visitor creates the owner account (or \`npm run admin -- create-owner\`)`,
      // The embedded data dir belongs to this process; PostgreSQL may be shared with the admin CLI.
      `  API key: create one in the portal under "API keys", or \`npm run admin -- create-key --project <name>\` ${embedded ? '(server stopped)' : '(with this environment)'}`,
      '',
    ].join('\n'),
  );
  // Idempotency keys are kept 48 h; prune hourly (any instance may do it).
  const prune = setInterval(() => {
    pruneIdempotencyKeys(services.core).catch((err: unknown) =>
      log.warn('pruning idempotency keys failed', { error: (err as Error).message }),
    );
    // Sign-in buckets a minute old are full again; an hour keeps the table to the IPs seen lately.
    pruneSignInBuckets(services.core, 3_600_000).catch((err: unknown) =>
      log.warn('pruning sign-in rate-limit buckets failed', { error: (err as Error).message }),
    );
    void sweepPartials(3_600_000);
  }, 3_600_000);
  prune.unref();
  // Retention and the files of deleted episodes (any instance may; one sweep at a time across them).
  const sweeper = startSweeper(services.core, log, {
    intervalS: env.ROBOTRACE_SWEEP_INTERVAL_S,
    batchSize: env.ROBOTRACE_SWEEP_BATCH_SIZE,
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    server.closeIdleConnections();
    const forced = setTimeout(() => server.closeAllConnections(), 5_000);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    clearTimeout(forced);
    await sweeper.stop();
    await services.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  // Operator errors are one line naming the cause; anything else keeps its stack (a bug to report).
  if (
    err instanceof ConfigError ||
    err instanceof DataDirLockedError ||
    err instanceof DatabaseConnectError ||
    err instanceof AppError
  ) {
    process.stderr.write(`RoboTrace: ${err.message}\n`);
  } else {
    process.stderr.write(`RoboTrace failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
});
