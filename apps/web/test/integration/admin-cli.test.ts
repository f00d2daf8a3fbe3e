import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { startServer } from '../../../../test/support/server.js';
import { signIn } from '../support/portal-http.js';
import { runNode } from '../support/run-node.js';

// Issue 19: `npm run admin` opens the database the instances use and says which, never invents an embedded one,
// follows the instances' schema rule, and can create the owner account.
const SECRET = 'admin-cli-secret-'.padEnd(64, 'x');
const OWNER = 'Ops@Example.com';
const OWNER_PASSWORD = 'owner-password-1';

let pgs: TestPostgres;
let scratch: string;
beforeAll(async () => {
  pgs = await startPostgres();
  scratch = mkdtempSync(join(tmpdir(), 'rt-admin-'));
});
afterAll(async () => {
  await pgs?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const admin = (args: string[], env: Record<string, string>, stdin = '') =>
  runNode(['apps/web/dist/admin.js', ...args], { ROBOTRACE_LOG_LEVEL: 'warn', ...env }, stdin);

describe('admin CLI', () => {
  it('without DATABASE_URL and without a data dir: says so and creates nothing', async () => {
    const missing = join(scratch, 'never-started');
    const r = await admin(['create-key', '--project', 'lab'], { ROBOTRACE_DATA_DIR: missing });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^robotrace admin: no database to open: DATABASE_URL is not set and there is no embedded database in ${missing}\\. For PostgreSQL, give this command the instances' environment`,
      ),
    );
    expect(existsSync(missing)).toBe(false);
  });

  it('against PostgreSQL: names it, refuses an older schema unless --migrate, creates the owner and a key', async () => {
    const databaseUrl = await pgs.createDatabase();
    const env = { DATABASE_URL: databaseUrl, ROBOTRACE_SECRET: SECRET };
    const where = `PostgreSQL at 127.0.0.1:${pgs.port}/${new URL(databaseUrl).pathname.slice(1)}`;

    const refused = await admin(['create-project', 'lab'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`robotrace admin: database ${where}\n`);
    expect(refused.stderr).toMatch(
      /schema is \d+ migration\(s\) behind this version: run `npm run db:migrate` first/,
    );
    // Refused means untouched: no migration ran.
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    const tables = await c.query(
      "select count(*)::int as n from information_schema.tables where table_name = 'project'",
    );
    await c.end();
    expect(tables.rows[0]?.n).toBe(0);

    const created = await admin(
      ['--migrate', 'create-owner', '--email', OWNER, '--project', 'lab'],
      env,
      `${OWNER_PASSWORD}\n`,
    );
    expect(created.stderr).toContain(`database ${where}`);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe('created the owner account ops@example.com, owner of project "lab"\n');

    // Re-running the step is harmless; a second "owner" is not.
    const again = await admin(
      ['create-owner', '--email', OWNER, '--project', 'lab'],
      env,
      'another-password\n',
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('exists already (password unchanged)');
    const other = await admin(
      ['create-owner', '--email', 'mallory@example.com', '--project', 'lab'],
      env,
      'mallory-password\n',
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('An owner account exists already (ops@example.com)');

    const short = await admin(['create-owner', '--email', OWNER, '--project', 'lab'], env, 'short\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 8 characters');

    const key = await admin(['create-key', '--project', 'lab', '--name', 'robots'], env);
    expect(key.code, key.stderr).toBe(0);
    const apiKey = /ROBOTRACE_API_KEY=(rt_\S+)/.exec(key.stdout)?.[1] ?? '';
    expect(apiKey).not.toBe('');

    // What the CLI made is what an instance serves: the owner signs in with the first password, the key works.
    const server = await startServer({
      env: {
        ...env,
        ROBOTRACE_MIGRATE_ON_START: '',
        ROBOTRACE_INIT_EMAIL: '',
        ROBOTRACE_INIT_PASSWORD: '',
        ROBOTRACE_INIT_PROJECT: '',
        ROBOTRACE_INIT_API_KEY: '',
      },
    });
    try {
      expect(server.output()).toContain('sign in with the owner account');
      await expect(signIn(server.baseUrl, 'ops@example.com', OWNER_PASSWORD)).resolves.toMatchObject({
        email: 'ops@example.com',
      });
      await expect(signIn(server.baseUrl, 'ops@example.com', 'another-password')).rejects.toThrow(
        /answered 401/,
      );
      const r = await fetch(`${server.baseUrl}/api/episodes?limit=1`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(r.status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('on an existing embedded data dir: names it and works (the embedded database always migrates)', async () => {
    const dataDir = join(scratch, 'embedded');
    const made = await runNode(['apps/web/dist/migrate.js'], { ROBOTRACE_DATA_DIR: dataDir });
    expect(made.code, made.stderr).toBe(0);
    const r = await admin(['create-project', 'bench'], { ROBOTRACE_DATA_DIR: dataDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`robotrace admin: database embedded PGlite in ${dataDir}\n`);
    expect(r.stdout).toMatch(/^created project "bench" \(/);
  });
});
