import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_CREDENTIALS, startMoto, type TestS3 } from '../../../../test/support/moto.js';
import { freePort } from '../../../../test/support/postgres.js';
import { startServer } from '../../../../test/support/server.js';
import { type PasswordPostgres, startPasswordPostgres } from '../support/pg-cluster.js';
import { runNode } from '../support/run-node.js';

// Issue 19: an operator's mistake stops the start with one line naming the cause, not a stack of "Failed query".
const SECRET = 'startup-errors-secret-'.padEnd(64, 'x');
const PASSWORD = 'the-right-password';

let pg: PasswordPostgres;
let s3: TestS3;
let dataDir: string;

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPasswordPostgres(), startMoto()]);
  await pg.admin(`create role robotrace login password '${PASSWORD}'`);
  await pg.admin('create database robotrace owner robotrace');
  dataDir = mkdtempSync(join(tmpdir(), 'rt-startup-'));
}, 300_000);
afterAll(async () => {
  await Promise.all([pg?.stop(), s3?.stop()]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const url = (password: string, port = pg.port, db = 'robotrace') =>
  `postgresql://robotrace:${password}@127.0.0.1:${port}/${db}`;

function env(extra: Record<string, string>): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    ROBOTRACE_DATA_DIR: dataDir,
    ROBOTRACE_SECRET: SECRET,
    ROBOTRACE_LOG_LEVEL: 'warn',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

/** The process exits 1 and its whole output is this one line. */
async function expectOneLine(script: string, extra: Record<string, string>, line: string | RegExp) {
  const r = await runNode([`apps/web/dist/${script}.js`], env(extra));
  expect(r.code, r.stderr).not.toBe(0);
  const out = `${r.stdout}${r.stderr}`.trim();
  expect(out.split('\n'), out).toHaveLength(1);
  if (typeof line === 'string') expect(out).toBe(line);
  else expect(out).toMatch(line);
}

describe('start-up failures name their cause in one line', () => {
  it('a wrong PostgreSQL password', async () => {
    const target = `127.0.0.1:${pg.port}/robotrace`;
    const reason = 'password authentication failed for user "robotrace"';
    await expectOneLine(
      'main',
      { DATABASE_URL: url('wrong-password') },
      `RoboTrace: cannot connect to PostgreSQL at ${target}: ${reason}`,
    );
    // The same words from the deploy steps that open the database.
    await expectOneLine(
      'migrate',
      { DATABASE_URL: url('wrong-password') },
      `RoboTrace migrate: cannot connect to PostgreSQL at ${target}: ${reason}`,
    );
  });

  it('nothing listening at the address (ECONNREFUSED)', async () => {
    const port = await freePort();
    await expectOneLine(
      'main',
      { DATABASE_URL: url(PASSWORD, port) },
      new RegExp(
        `^RoboTrace: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/robotrace: connect ECONNREFUSED 127\\.0\\.0\\.1:${port} \\(nothing listens there`,
      ),
    );
  });

  it('a database that does not exist', async () => {
    await expectOneLine(
      'main',
      { DATABASE_URL: url(PASSWORD, pg.port, 'nope') },
      `RoboTrace: cannot connect to PostgreSQL at 127.0.0.1:${pg.port}/nope: database "nope" does not exist (create it: DEPLOY.md §1)`,
    );
  });

  it('an S3 bucket that was never created', async () => {
    await expectOneLine(
      'main',
      {
        DATABASE_URL: url(PASSWORD),
        ROBOTRACE_MIGRATE_ON_START: '1',
        ROBOTRACE_STORAGE: 's3',
        S3_BUCKET: 'never-created',
        S3_ENDPOINT: s3.endpoint,
        S3_FORCE_PATH_STYLE: '1',
        S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      },
      `RoboTrace: S3 bucket "never-created" does not exist at ${s3.endpoint}: create it (DEPLOY.md §2)`,
    );
  });
});

describe('the start-up banner tells the truth', () => {
  const noBootstrap = {
    ROBOTRACE_INIT_EMAIL: '',
    ROBOTRACE_INIT_PASSWORD: '',
    ROBOTRACE_INIT_PROJECT: '',
    ROBOTRACE_INIT_API_KEY: '',
  };

  it('on PostgreSQL: no owner yet, then the owner the bootstrap created; the admin CLI needs no stopped server', async () => {
    const common = { DATABASE_URL: url(PASSWORD), ROBOTRACE_SECRET: SECRET };
    const fresh = await startServer({ env: { ...common, ...noBootstrap } });
    const before = fresh.output();
    await fresh.stop();
    expect(before).toContain(`PostgreSQL at 127.0.0.1:${pg.port}/robotrace`);
    expect(before).toContain('no account yet: the first visitor creates the owner account');
    expect(before).toContain('(with this environment)');
    expect(before).not.toContain('(server stopped)');

    const booted = await startServer({ env: common });
    const after = booted.output();
    await booted.stop();
    expect(after).toContain('sign in with the owner account');
    expect(after).not.toContain('first visitor');
  });

  it('embedded: "(server stopped)", since the data dir belongs to the server', async () => {
    const server = await startServer({ env: noBootstrap });
    const out = server.output();
    await server.stop();
    expect(out).toContain('embedded PGlite + local disk');
    expect(out).toContain('no account yet');
    expect(out).toContain('(server stopped)');
  });
});
