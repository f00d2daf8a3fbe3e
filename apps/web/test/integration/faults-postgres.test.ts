import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allEpisodes, postgresPids, signalEach } from '../../../../test/faults/support.js';
import { api } from '../../../../test/support/api.js';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { startServer, type TestServer } from '../../../../test/support/server.js';
import { API_DEADLINE_MS } from '../../src/app.js';

/**
 * Fault: PostgreSQL is restarted (fast shutdown, then start) while clients keep creating and reading
 * episodes. The server keeps running: during the gap every request is answered quickly — 503 with
 * Retry-After, never a hang or a 500 — and once PostgreSQL is back it serves again on its own.
 */
const HANG_MS = 10_000; // "answers within a few seconds": the pool's connect timeout is 5 s

interface Outcome {
  status: number;
  ms: number;
  retryAfter: string | null;
  code?: string;
  phase: 'before' | 'during' | 'after';
}

describe('fault: PostgreSQL restarted under load', () => {
  let pg: TestPostgres;
  let server: TestServer;
  let databaseUrl: string;

  beforeAll(async () => {
    pg = await startPostgres();
    databaseUrl = await pg.createDatabase();
    server = await startServer({
      env: {
        DATABASE_URL: databaseUrl,
        ROBOTRACE_SECRET: randomBytes(32).toString('hex'),
        ROBOTRACE_DB_POOL_MAX: '8',
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await pg?.stop();
  });

  it('answers 503 quickly during the gap and recovers without a restart of its own', async () => {
    const client = api(server.baseUrl, server.apiKey);
    let phase: Outcome['phase'] = 'before';
    let running = true;
    const outcomes: Outcome[] = [];

    const one = async (i: number): Promise<void> => {
      const t0 = Date.now();
      const signal = AbortSignal.timeout(HANG_MS);
      const create = i % 2 === 0;
      const res = await fetch(
        `${server.baseUrl}${create ? '/api/ingest/episode' : '/api/episodes?limit=5'}`,
        {
          method: create ? 'POST' : 'GET',
          headers: {
            authorization: `Bearer ${server.apiKey}`,
            'content-type': 'application/json',
          },
          body: create ? JSON.stringify({ source: 'sim', name: `pg-restart-${i}` }) : undefined,
          signal,
        },
      );
      const body = (await res.json()) as { code?: string };
      outcomes.push({
        status: res.status,
        ms: Date.now() - t0,
        retryAfter: res.headers.get('retry-after'),
        code: body.code,
        phase,
      });
    };
    // Six clients in a loop, each one request at a time (a hang shows up as an AbortError and fails the test).
    const workers = Array.from({ length: 6 }, async (_, w) => {
      for (let i = w; running; i += 6) await one(i);
    });

    await new Promise((r) => setTimeout(r, 1_000));
    phase = 'during';
    for (let round = 0; round < 2; round++) await pg.restart();
    // Recovery: the pool replaces its dead connections by itself; give it a generous bound.
    const deadline = Date.now() + 20_000;
    while ((await client.get('/api/health')).status !== 200) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 200));
    }
    phase = 'after';
    await new Promise((r) => setTimeout(r, 1_500));
    running = false;
    await Promise.all(workers);

    const during = outcomes.filter((o) => o.phase === 'during');
    const after = outcomes.filter((o) => o.phase === 'after');
    // Every answer is a success or a 503 with Retry-After: no 500s, no other codes.
    for (const o of outcomes) {
      expect([200, 201, 503], JSON.stringify(o)).toContain(o.status);
      expect(o.ms, JSON.stringify(o)).toBeLessThan(HANG_MS);
      if (o.status === 503) {
        expect(o.code).toBe('unavailable');
        expect(Number(o.retryAfter)).toBeGreaterThanOrEqual(1);
      }
    }
    // The gap was seen (otherwise this test proves nothing), and the server recovered by itself.
    expect(during.filter((o) => o.status === 503).length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(5);
    expect(after.filter((o) => o.status >= 500)).toEqual([]);
    expect(server.output()).not.toMatch(/unhandled error/);

    // And the data written before and after the gap is all there.
    const names = new Set(
      (await allEpisodes(server.baseUrl, server.apiKey, 'pg-restart')).map((e) => e.name),
    );
    expect(names.size).toBe(outcomes.filter((o) => o.status === 201).length);
  }, 90_000);

  it('a stalled PostgreSQL (answers nothing, closes nothing) gets 503s within the deadline, then recovers', async () => {
    const client = api(server.baseUrl, server.apiKey);
    expect((await client.get('/api/health')).status).toBe(200);
    const pids = await postgresPids(databaseUrl);
    const name = `pg-stall-${randomBytes(4).toString('hex')}`;
    const key = `stall-${name}`;
    const create = () =>
      client.post('/api/ingest/episode', { source: 'sim', name }, { headers: { 'idempotency-key': key } });
    const timed = async <T>(p: Promise<T>) => {
      const t0 = Date.now();
      const r = await p;
      return { r, ms: Date.now() - t0 };
    };
    signalEach(pids, 'SIGSTOP');
    try {
      // More callers than pool connections: some hold a connection that never answers, the rest wait for one.
      const calls = await Promise.all([
        timed(create()),
        ...Array.from({ length: 9 }, (_, i) => timed(client.get(`/api/episodes?limit=${i + 1}`))),
        timed(client.get('/api/health')),
      ]);
      for (const { r, ms } of calls) {
        expect(r.status, JSON.stringify(r.body)).toBe(503);
        expect(r.body).toMatchObject({ code: 'unavailable' });
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(ms).toBeLessThan(API_DEADLINE_MS + 10_000);
      }
    } finally {
      signalEach(pids, 'SIGCONT');
    }
    const deadline = Date.now() + 30_000;
    while ((await client.get('/api/health')).status !== 200) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 200));
    }
    // The create that got a 503 is retried with its key: one episode, whatever the first try did meanwhile.
    const retried = await create();
    expect(retried.status).toBe(201);
    const again = await create();
    expect(again.body).toEqual(retried.body);
    const found = await client.get<{ data: unknown[] }>(`/api/episodes?q=${name}`);
    expect(found.body.data).toHaveLength(1);
    expect(server.output()).not.toMatch(/unhandled error/);
  }, 120_000);
});
