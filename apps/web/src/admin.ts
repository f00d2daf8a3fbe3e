import { parseArgs } from 'node:util';
import { AppError, createApiKey, createProject, findProjectByName } from '@robotrace/core';
import { DataDirLockedError } from '@robotrace/db';
import { openDatabase } from './database.js';
import { ConfigError, loadEnv } from './env.js';

const USAGE = `usage:
  npm run admin -- create-project <name>
  npm run admin -- create-key --project <name> [--name <label>]`;

/** Operator commands. The embedded DB belongs to one process: with the server running they refuse clearly. */
async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { project: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command !== 'create-project' && command !== 'create-key')
    throw new ConfigError(`unknown command "${command}"\n${USAGE}`);
  const env = loadEnv();
  const dbh = await openDatabase(env);
  try {
    await dbh.migrate();
    if (command === 'create-project') {
      if (!arg) throw new ConfigError(`create-project needs a name\n${USAGE}`);
      const p = await createProject(dbh, arg);
      process.stdout.write(`created project "${p.name}" (${p.id})\n`);
    } else {
      if (!values.project) throw new ConfigError(`create-key needs --project <name>\n${USAGE}`);
      const p = await findProjectByName(dbh, values.project);
      if (!p) throw new ConfigError(`no project named "${values.project}" (create it with create-project)`);
      const k = await createApiKey(dbh, { projectId: p.id }, values.name ?? 'admin');
      process.stdout.write(
        `API key for project "${p.name}" (shown once, store it now):\n\n  ROBOTRACE_API_KEY=${k.key}\n\n`,
      );
    }
  } finally {
    await dbh.close();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const known = err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof AppError;
  process.stderr.write(
    `robotrace admin: ${known ? (err as Error).message : ((err as Error)?.stack ?? String(err))}\n`,
  );
  process.exit(known ? 2 : 1);
});
