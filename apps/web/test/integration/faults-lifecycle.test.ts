import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Retention } from '@robotrace/contracts';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killServer } from '../../../../test/faults/support.js';
import { api } from '../../../../test/support/api.js';
import { type SeededEpisode, seedEpisode, until } from '../../../../test/support/lifecycle.js';
import { freePort, startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { startServer, TEST_API_KEY, type TestServer } from '../../../../test/support/server.js';

/**
 * Fault: the server is killed with SIGKILL in the middle of deletes (embedded PGlite) and in the middle of a
 * retention sweep (PostgreSQL), both on local disk. After the restart nothing is half-deleted: every episode
 * that answers has all its files, every one that is gone has none left, and no file is left that no episode
 * owns (the deletion was recorded with the row's removal and completed by the sweeper at start).
 */
const fileOf = (server: TestServer, url: string) =>
  join(server.dataDir, 'artifacts', ...decodeURIComponent(new URL(url).pathname).split('/').slice(3));

/** Every stored file under the artifacts dir, as `<project>/<episode>/<kind>` (the store's own temp dir aside). */
function storedFiles(server: TestServer): string[] {
  const root = join(server.dataDir, 'artifacts');
  const out: string[] = [];
  for (const project of readdirSync(root).filter((p) => !p.startsWith('.')))
    for (const episode of readdirSync(join(root, project)))
      for (const kind of readdirSync(join(root, project, episode)).filter((k) => !k.endsWith('.meta')))
        out.push(`${project}/${episode}/${kind}`);
  return out;
}

/** The restart's promise: each episode whole or wholly gone, and no file without its episode. */
async function expectNothingHalfDeleted(server: TestServer, episodes: SeededEpisode[]) {
  const c = api(server.baseUrl, TEST_API_KEY);
  const alive = new Set<string>();
  for (const e of episodes) {
    const status = (await c.get(`/api/episodes/${e.id}`)).status;
    expect([200, 404]).toContain(status);
    if (status === 200) {
      alive.add(e.id);
      for (const u of e.urls) expect(existsSync(fileOf(server, u))).toBe(true);
    }
  }
  await until('the files of every deleted episode are removed', async () =>
    episodes.every((e) => alive.has(e.id) || e.urls.every((u) => !existsSync(fileOf(server, u)))),
  );
  const owners = storedFiles(server).map((f) => f.split('/')[1] ?? '');
  expect(owners.filter((id) => !alive.has(id))).toEqual([]);
  return alive;
}

describe('fault: kill -9 in the middle of deletes (embedded PGlite, local disk)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { PORT: String(await freePort()), ROBOTRACE_SWEEP_INTERVAL_S: '1' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('on restart every episode is whole or wholly gone, no file left without its episode', async () => {
    const c = api(server.baseUrl, TEST_API_KEY);
    // On a quiet machine all 24 deletes can finish before the kill lands; such a round cut nothing short, so
    // another round runs (each round is checked all the same) until one kill interrupts deletes in flight.
    let cut = false;
    for (let round = 0; round < 5 && !cut; round += 1) {
      const episodes: SeededEpisode[] = [];
      for (let i = 0; i < 24; i += 1)
        episodes.push(
          await seedEpisode(server.baseUrl, TEST_API_KEY, { name: `del-${round}-${i}`, bytes: 64 * 1024 }),
        );
      const deletes = episodes.map((e) =>
        c.call('DELETE', `/api/episodes/${e.id}`).then(
          (r) => r.status,
          () => 0,
        ),
      );
      // Kill once the first delete answered: the others are queued, in their transaction or removing files.
      await Promise.race(deletes);
      killServer(server.dataDir);
      const answered = (await Promise.all(deletes)).filter((s) => s === 200).length;
      await server.restart();
      const alive = await expectNothingHalfDeleted(server, episodes);
      // Every delete that answered 200 stays deleted.
      expect(episodes.length - alive.size).toBeGreaterThanOrEqual(answered);
      cut = answered < episodes.length;
      for (const id of alive) expect((await c.call('DELETE', `/api/episodes/${id}`)).status).toBe(200);
      await expectNothingHalfDeleted(server, episodes);
      expect(storedFiles(server)).toEqual([]);
    }
    expect(cut, 'a kill -9 landed while deletes were in flight').toBe(true);
  });
});

describe('fault: kill -9 in the middle of a retention sweep (PostgreSQL, local disk)', () => {
  let pgc: TestPostgres;
  let server: TestServer;
  let databaseUrl: string;
  beforeAll(async () => {
    pgc = await startPostgres();
    databaseUrl = await pgc.createDatabase();
    server = await startServer({
      env: {
        PORT: String(await freePort()),
        DATABASE_URL: databaseUrl,
        ROBOTRACE_SECRET: 'faults-lifecycle-secret-'.padEnd(64, 'x'),
        ROBOTRACE_SWEEP_INTERVAL_S: '1',
        ROBOTRACE_SWEEP_BATCH_SIZE: '2',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await pgc?.stop();
  });

  it('on restart the sweep completes: expired episodes and their files gone, the rest whole', async () => {
    const expired: SeededEpisode[] = [];
    for (let i = 0; i < 20; i += 1)
      expired.push(await seedEpisode(server.baseUrl, TEST_API_KEY, { name: `exp-${i}`, bytes: 64 * 1024 }));
    const kept = await seedEpisode(server.baseUrl, TEST_API_KEY, { name: 'kept' });
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      await db.query(
        `update episode set created_at = created_at - interval '30 days' where id = any($1::uuid[])`,
        [expired.map((e) => e.id)],
      );
      const c = api(server.baseUrl, TEST_API_KEY);
      expect(
        (await c.call('PUT', '/api/project/retention', { keep_days: 7, keep_failed_days: null })).status,
      ).toBe(200);
      // Kill as soon as the first batch is logged: later batches are in flight or not started.
      await until('a first sweep batch', async () => / retention sweep deleted=/.test(server.output()));
      process.kill(server.pid() ?? 0, 'SIGKILL');
      await server.restart();
      await until('the sweep completed after the restart', async () => {
        const r = await api(server.baseUrl, TEST_API_KEY).get<Retention>('/api/project/retention');
        return r.body.next_sweep.episodes === 0;
      });
      const alive = await expectNothingHalfDeleted(server, [...expired, kept]);
      expect([...alive]).toEqual([kept.id]);
      const pending = await db.query('select count(*)::int as n from storage_deletion');
      expect(pending.rows[0]?.n).toBe(0);
    } finally {
      await db.end();
    }
  });
});
