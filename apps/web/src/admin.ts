import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  AppError,
  createApiKey,
  createProject,
  ensureAccounts,
  findProjectByName,
  getRetention,
  setRetention,
  systemClock,
} from '@robotrace/core';
import { DatabaseConnectError, DataDirLockedError, type DbHandle, pendingMigrations } from '@robotrace/db';
import { hashPassword } from 'better-auth/crypto';
import { describeDatabase, embeddedDatabaseExists, openDatabase } from './database.js';
import { ConfigError, type Env, loadEnv } from './env.js';

const USAGE = `usage (with the same environment as the server, e.g. node --env-file=<file> apps/web/dist/admin.js …):
  npm run admin -- create-owner --email <address> --project <name>   (the password is read from stdin)
  npm run admin -- create-project <name>
  npm run admin -- create-key --project <name> [--name <label>]
  npm run admin -- set-retention --project <name> --days <N|off> [--failed-days <M|off>]   (1–3650 days; off keeps forever)
options:
  --migrate   apply pending migrations to PostgreSQL first (otherwise an older schema is refused, as instances do)`;

const COMMANDS = ['create-owner', 'create-project', 'create-key', 'set-retention'] as const;
type Command = (typeof COMMANDS)[number];

/**
 * Operator commands. They open the database the server would (and say which), follow the instances' schema rule,
 * and never create an embedded database nobody started: that is almost always a missing DATABASE_URL.
 */
async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      project: { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string' },
      days: { type: 'string' },
      'failed-days': { type: 'string' },
      migrate: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!COMMANDS.includes(command as Command)) throw new ConfigError(`unknown command "${command}"\n${USAGE}`);
  const env = loadEnv();
  if (!env.DATABASE_URL && !embeddedDatabaseExists(env))
    throw new ConfigError(
      `no database to open: DATABASE_URL is not set and there is no embedded database in ${resolve(env.ROBOTRACE_DATA_DIR)}. ` +
        "For PostgreSQL, give this command the instances' environment (node --env-file=<their env file> apps/web/dist/admin.js …); " +
        'for the embedded database, run it where the server runs or set ROBOTRACE_DATA_DIR',
    );
  process.stderr.write(`robotrace admin: database ${describeDatabase(env)}\n`);
  const dbh = await openDatabase(env);
  try {
    await prepareSchema(env, dbh, values.migrate === true);
    await run(command as Command, arg, values, dbh);
  } finally {
    await dbh.close();
  }
}

/** The embedded database belongs to whoever opens it and always migrates; PostgreSQL only when told. */
async function prepareSchema(env: Env, dbh: DbHandle, migrate: boolean): Promise<void> {
  if (dbh.kind === 'pglite' || migrate || env.ROBOTRACE_MIGRATE_ON_START === true) {
    await dbh.migrate();
    return;
  }
  const pending = await pendingMigrations(dbh.db);
  if (pending > 0)
    throw new ConfigError(
      `the database schema is ${pending} migration(s) behind this version: run \`npm run db:migrate\` first (or pass --migrate)`,
    );
}

async function run(
  command: Command,
  arg: string | undefined,
  values: { project?: string; name?: string; email?: string; days?: string; 'failed-days'?: string },
  dbh: DbHandle,
): Promise<void> {
  if (command === 'set-retention') return setRetentionCommand(values, dbh);
  if (command === 'create-owner') {
    if (!values.email || !values.project)
      throw new ConfigError(`create-owner needs --email <address> and --project <name>\n${USAGE}`);
    const password = await readPassword();
    if (password.length < 8) throw new ConfigError('the password must be at least 8 characters');
    const r = await ensureAccounts(
      { db: dbh.db, clock: systemClock },
      {
        project: values.project,
        owner: { email: values.email, passwordHash: await hashPassword(password) },
        firstUserOnly: true,
      },
    );
    process.stdout.write(
      r.userCreated
        ? `created the owner account ${values.email.toLowerCase()}, owner of project "${r.project.name}"\n`
        : `the account ${values.email.toLowerCase()} exists already (password unchanged); owner of project "${r.project.name}"\n`,
    );
  } else if (command === 'create-project') {
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
}

/** `off` keeps forever (null); anything else must be a whole number (core checks the range, naming the field). */
function days(value: string, flag: string): number | null {
  if (value === 'off') return null;
  if (!/^\d+$/.test(value))
    throw new ConfigError(`${flag} takes a whole number of days (1–3650) or off, not "${value}"`);
  return Number(value);
}

async function setRetentionCommand(
  values: { project?: string; days?: string; 'failed-days'?: string },
  dbh: DbHandle,
): Promise<void> {
  if (!values.project || values.days === undefined)
    throw new ConfigError(`set-retention needs --project <name> and --days <N|off>\n${USAGE}`);
  const p = await findProjectByName(dbh, values.project);
  if (!p) throw new ConfigError(`no project named "${values.project}" (create it with create-project)`);
  const deps = { db: dbh.db, clock: systemClock };
  // Without --failed-days the failed episodes' retention stays what it was.
  const failed = values['failed-days'];
  const keepFailed =
    failed === undefined
      ? (await getRetention(deps, { projectId: p.id })).keep_failed_days
      : days(failed, '--failed-days');
  const r = await setRetention(deps, {
    projectId: p.id,
    keep_days: days(values.days, '--days'),
    keep_failed_days: keepFailed,
  });
  const forever = (n: number | null) => (n === null ? 'forever' : `${n} days`);
  process.stdout.write(
    `project "${p.name}": episodes kept ${forever(r.keep_days)}, failed ones ${r.keep_failed_days === null ? 'as the others' : `${r.keep_failed_days} days`}; ` +
      `the next sweep deletes ${r.next_sweep.episodes} episode(s), ${r.next_sweep.bytes} bytes\n`,
  );
}

/** The password from stdin: a pipe's first line, or typed at a terminal without echo. Never an argument (ps, history). */
async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return text.split(/\r?\n/)[0] ?? '';
  }
  process.stderr.write('password of the owner account (not shown): ');
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(typed);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new ConfigError('cancelled'));
          return;
        }
        typed = ch === '\u007f' || ch === '\b' ? typed.slice(0, -1) : typed + ch;
      }
    };
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const known =
    err instanceof ConfigError ||
    err instanceof DataDirLockedError ||
    err instanceof DatabaseConnectError ||
    err instanceof AppError;
  process.stderr.write(
    `robotrace admin: ${known ? (err as Error).message : ((err as Error)?.stack ?? String(err))}\n`,
  );
  process.exit(known ? 2 : 1);
});
