import { DatabaseConnectError, DataDirLockedError } from '@robotrace/db';
import { describeDatabase, openDatabase } from './database.js';
import { ConfigError, loadEnv } from './env.js';

/** `npm run db:migrate`: applies the migration set to DATABASE_URL (or the embedded DB) and exits. */
async function main(): Promise<void> {
  const env = loadEnv();
  const dbh = await openDatabase(env);
  try {
    await dbh.migrate();
    process.stdout.write(`migrations applied (${dbh.kind}): ${describeDatabase(env)}\n`);
  } finally {
    await dbh.close();
  }
}

main().catch((err: unknown) => {
  const known =
    err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof DatabaseConnectError;
  process.stderr.write(
    `RoboTrace migrate: ${known ? (err as Error).message : ((err as Error)?.stack ?? String(err))}\n`,
  );
  process.exit(1);
});
