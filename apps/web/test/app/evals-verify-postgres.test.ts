import { randomBytes } from 'node:crypto';
import { insightsSettled } from '@robotrace/core';
import { episodeInsight } from '@robotrace/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { startApp, type TestApp } from '../support/app.js';
import { portal, signIn } from '../support/portal-http.js';

/**
 * The pillars' SQL on a real PostgreSQL (the other tests run on PGlite): an eval run to its summary, the gate
 * (DISTINCT ON per scenario, severity order) before and after the run's completion records a result, a device
 * login to a working key, and a failed episode's analysis.
 */
let app: TestApp;
let pg: TestPostgres;
type Json = Record<string, unknown>;

beforeAll(async () => {
  pg = await startPostgres();
  app = await startApp({
    env: { DATABASE_URL: await pg.createDatabase(), ROBOTRACE_SECRET: randomBytes(32).toString('hex') },
  });
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await pg?.stop();
});

describe('pillars on PostgreSQL', () => {
  it('eval run → summary → gate; device login → key; failed finalize → insights', async () => {
    const c = app.client();
    const base = String(
      (await c.post<Json>('/api/ingest/episode', { source: 'sim', name: 'base' })).body.episode_id,
    );
    const sc = await c.post<Json>('/api/verify/promote', { baseline_episode_id: base, severity: 'critical' });
    await c.post('/api/verify/promote', { baseline_episode_id: base, severity: 'critical' });
    expect((await c.post('/api/verify/check', { candidate_policy_version: 'v2' })).status).toBe(422);
    const run = String(
      (
        await c.post<Json>('/api/ingest/eval-run', {
          candidate_policy_version: 'v2',
          baseline_episode_ids: [base],
        })
      ).body.eval_run_id,
    );
    await c.post(`/api/ingest/eval-run/${run}/result`, {
      baseline_episode_id: base,
      status: 'complete',
      metrics: { success_baseline: false, success_candidate: true },
    });
    const fin = await c.post<Json>(`/api/ingest/eval-run/${run}/finalize`, {});
    expect(fin.body.summary).toMatchObject({ recommend: 'ship', better_count: 1, metric_total: 1 });
    const gate = await c.post<Json>('/api/verify/check', { candidate_policy_version: 'v2' });
    expect(gate.status).toBe(200);
    expect(gate.body.scenarios).toEqual([
      expect.objectContaining({ scenario_id: sc.body.scenario_id, latest_status: 'pass' }),
    ]);

    const started = await app.client(undefined).post<Json>('/api/cli/auth/start', { hostname: 'pg-box' });
    const user = await signIn(app.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const approved = await portal(app.baseUrl, user, '/portal/cli/auth', {
      code: String(started.body.user_code),
      decision: 'approve',
    });
    expect(approved.html).toContain('Device authorized');
    const polled = await app
      .client(undefined)
      .post<Json>('/api/cli/auth/poll', { device_code: started.body.device_code });
    expect(polled.body.status).toBe('approved');
    expect((await app.client(String(polled.body.api_key)).get('/api/episodes')).status).toBe(200);

    const failed = String((await c.post<Json>('/api/ingest/episode', { source: 'real' })).body.episode_id);
    await c.post(`/api/ingest/episode/${failed}/finalize`, {
      status: 'failed',
      failure_time_s: 1,
      metadata: { failure_reason: 'e-stop' },
    });
    await insightsSettled();
    const [row] = await app.services.core.db
      .select()
      .from(episodeInsight)
      .where(eq(episodeInsight.episodeId, failed));
    expect(row?.status).toBe('done');
    expect(((row?.findings ?? []) as Json[]).map((f) => f.rule)).toEqual(['outcome.reason', 'outcome.time']);
  });
});
