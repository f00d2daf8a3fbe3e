import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { startServer, TEST_API_KEY, TEST_EMAIL, type TestServer } from '../../../../test/support/server.js';
import { signIn } from '../support/portal-http.js';

// Issue 19: every instance of a fleet carries the same ROBOTRACE_INIT_* (one env file) and they start together on
// a fresh database. Before, one of two exited on `duplicate key value violates unique constraint` 4 times of 4.
// (PostgreSQL only: the embedded database belongs to one process, so there is no race there.)
const SECRET = 'bootstrap-race-secret-'.padEnd(64, 'x');
const INSTANCES = 3;

let pgs: TestPostgres;
beforeAll(async () => {
  pgs = await startPostgres();
});
afterAll(() => pgs?.stop());

async function count(url: string, sql: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>(sql)).rows[0]?.n);
  } finally {
    await c.end();
  }
}

describe('headless bootstrap with several instances starting at once', () => {
  // Two rounds on fresh databases: a race that passes by luck once rarely does twice.
  for (const round of [1, 2]) {
    it(`round ${round}: every instance starts; one owner, one project, one membership, one key`, async () => {
      const databaseUrl = await pgs.createDatabase();
      execFileSync(process.execPath, ['apps/web/dist/migrate.js'], {
        env: { ...process.env, DATABASE_URL: databaseUrl, ROBOTRACE_SECRET: SECRET },
      });
      const env = { DATABASE_URL: databaseUrl, ROBOTRACE_SECRET: SECRET, ROBOTRACE_MIGRATE_ON_START: '' };
      const started = await Promise.allSettled(Array.from({ length: INSTANCES }, () => startServer({ env })));
      const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      try {
        const failures = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
        expect(failures).toEqual([]);
        expect(await count(databaseUrl, 'select count(*) as n from "user"')).toBe(1);
        expect(await count(databaseUrl, 'select count(*) as n from project')).toBe(1);
        expect(
          await count(databaseUrl, "select count(*) as n from project_member where role = 'owner'"),
        ).toBe(1);
        expect(await count(databaseUrl, 'select count(*) as n from api_key')).toBe(1);
        // What was created works from every instance: the key, and the owner's password.
        for (const s of servers as TestServer[]) {
          const r = await fetch(`${s.baseUrl}/api/episodes?limit=1`, {
            headers: { authorization: `Bearer ${TEST_API_KEY}` },
          });
          expect(r.status).toBe(200);
        }
        const first = servers[0] as TestServer;
        await expect(
          signIn(first.baseUrl, TEST_EMAIL, 'correct-horse-battery-staple'),
        ).resolves.toMatchObject({
          email: TEST_EMAIL,
        });
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    });
  }
});
