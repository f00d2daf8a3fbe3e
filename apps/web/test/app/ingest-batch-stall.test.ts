import { randomBytes } from 'node:crypto';
import type { CreateEpisodeResponse, Episode } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresPids, signalEach } from '../../../../test/faults/support.js';
import { api } from '../../../../test/support/api.js';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { TEST_API_KEY } from '../../../../test/support/server.js';
import { API_DEADLINE_MS } from '../../src/app.js';
import { startApp, type TestApp } from '../support/app.js';

/**
 * Fault: PostgreSQL stops answering (SIGSTOP: connections stay open, nothing comes back) while creates are
 * being group-committed — some in a batch already sent, the rest queued behind it. Every one of them gets its
 * 503 within the API deadline; once PostgreSQL answers again, retrying each with its Idempotency-Key yields
 * exactly one episode per key.
 */
describe('ingest batches while PostgreSQL stalls', () => {
  let app: TestApp;
  let pg: TestPostgres;
  let url: string;

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    // A small pool: two batch writers, so the stall catches batches in flight and leaves the rest queued.
    app = await startApp({
      env: {
        DATABASE_URL: url,
        ROBOTRACE_SECRET: randomBytes(32).toString('hex'),
        ROBOTRACE_DB_POOL_MAX: '4',
        ROBOTRACE_GROUP_COMMIT_MAX_BATCH: '4',
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await pg?.stop();
  });

  it('every waiting create gets its 503 within the deadline; retries with their keys make one episode each', async () => {
    const client = api(app.baseUrl, TEST_API_KEY);
    const run = `stall-${randomBytes(3).toString('hex')}`;
    // Authenticate once first: on PostgreSQL every request looks its key up, and those lookups stall too.
    const count = async () =>
      (await client.get<{ data: Episode[] }>('/api/episodes?limit=200')).body.data.length;
    const before = await count();
    const create = (i: number) =>
      client.post<CreateEpisodeResponse & { code?: string }>(
        '/api/ingest/episode',
        { source: 'sim', name: `${run}-${i}` },
        { headers: { 'idempotency-key': `${run}-${i}` } },
      );
    const pids = await postgresPids(url);
    signalEach(pids, 'SIGSTOP');
    let answers: { status: number; code?: string; retryAfter: string | null; ms: number }[];
    try {
      answers = await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const t0 = Date.now();
          const r = await create(i);
          return {
            status: r.status,
            code: r.body.code,
            retryAfter: r.headers.get('retry-after'),
            ms: Date.now() - t0,
          };
        }),
      );
    } finally {
      signalEach(pids, 'SIGCONT');
    }
    for (const a of answers) {
      expect(a.status, JSON.stringify(a)).toBe(503);
      expect(a.code).toBe('unavailable');
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      // The deadline plus what the event loop of a loaded machine adds; never a hang.
      expect(a.ms).toBeLessThan(API_DEADLINE_MS + 10_000);
    }
    const deadline = Date.now() + 30_000;
    while ((await client.get('/api/health')).status !== 200) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 200));
    }
    const retried = await Promise.all(Array.from({ length: 24 }, (_, i) => create(i)));
    expect(retried.map((r) => (r.status === 201 ? 201 : JSON.stringify(r.body)))).toEqual(
      Array(24).fill(201),
    );
    const listed = await client.get<{ data: Episode[] }>(`/api/episodes?q=${run}-&limit=200`);
    const names = listed.body.data.map((e) => e.name).sort();
    expect(names).toEqual(Array.from({ length: 24 }, (_, i) => `${run}-${i}`).sort());
    expect(new Set(retried.map((r) => r.body.episode_id)).size).toBe(24);
    // Nothing else was written: a request answered 503 while it waited for its key lookup stopped there.
    expect(await count()).toBe(before + 24);
  }, 120_000);
});
