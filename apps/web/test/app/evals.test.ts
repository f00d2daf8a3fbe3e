import { describe, expect, it } from 'vitest';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { useApp } from '../support/app.js';
import { portal, signIn } from '../support/portal-http.js';

/**
 * Eval runs (OFFICIAL_PILLARS.md §1) on the app in process: the three ingest routes with their answers, the bad
 * input list of issue 16, another project's ids, and the portal pages (list, diff card, results, the candidate's
 * "Part of eval run" pill), all with the escaping checked on hostile names and metrics.
 */
const app = useApp();
const OTHER_KEY = 'rt_other_project_key_for_evals_0001';
const XSS = '<img src=x onerror=alert(1)>';

type Json = Record<string, unknown>;
const c = () => app.current.client();

async function episode(body: Json = {}): Promise<string> {
  const r = await c().post<Json>('/api/ingest/episode', { source: 'sim', ...body });
  expect(r.status).toBe(201);
  return String(r.body.episode_id);
}

const metrics = (b: Json, cnd: Json): Json => ({
  success_baseline: b.success,
  success_candidate: cnd.success,
  reward_total_baseline: b.reward,
  reward_total_candidate: cnd.reward,
  collision_count_baseline: 0,
  collision_count_candidate: 0,
  action_l2_distance: 0.25,
  ood_action_share: 0.1,
  step_count: 60,
});

describe('eval runs', () => {
  it('create → upserted results → finalize answers the summary, again unchanged; results after it are a 409', async () => {
    const b1 = await episode({ name: 'baseline one', metadata: { outcome: { success: true } } });
    const b2 = await episode({ name: 'baseline two' });
    const created = await c().post<Json>('/api/ingest/eval-run', {
      candidate_policy_version: 'v2',
      baseline_policy_version: 'v1',
      baseline_episode_ids: [b1, b2, b1],
      name: `run ${XSS}`,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending', episode_count: 2 });
    const run = String(created.body.eval_run_id);

    const cand = await episode({
      source: 'replay',
      name: `replay ${XSS}`,
      metadata: { eval_run_id: run, baseline_episode_id: b1 },
    });
    const first = {
      baseline_episode_id: b1,
      status: 'complete',
      candidate_episode_id: cand,
      metrics: metrics({ success: true, reward: 10 }, { success: true, reward: 14 }),
    };
    const r1 = await c().post<Json>(`/api/ingest/eval-run/${run}/result`, first);
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ run_status: 'running', episodes_completed: 1, episodes_failed: 0 });
    // A repeat (the SDK's 429 retry) upserts the same row.
    const r1b = await c().post<Json>(`/api/ingest/eval-run/${run}/result`, first);
    expect(r1b.body).toEqual(r1.body);
    const r2 = await c().post<Json>(`/api/ingest/eval-run/${run}/result`, {
      baseline_episode_id: b2,
      status: 'failed',
      metrics: {},
      error: `TypeError: ${XSS}`,
    });
    expect(r2.body).toMatchObject({ episodes_completed: 1, episodes_failed: 1 });

    const fin = await c().post<Json>(`/api/ingest/eval-run/${run}/finalize`, { status: 'completed' });
    expect(fin.status).toBe(200);
    expect(fin.body).toMatchObject({
      eval_run_id: run,
      status: 'completed',
      summary: {
        success_rate: { baseline: 1, candidate: 1, delta: 0, delta_is_better: null },
        reward_mean: { baseline: 10, candidate: 14, delta: 4, delta_is_better: true },
        collision_rate: { delta_is_better: null },
        ood_action_share: { baseline: 0, candidate: 0.1, delta_is_better: null },
        recommend: 'ship',
        better_count: 1,
        metric_total: 3,
        results_counted: 1,
      },
    });
    const again = await c().post<Json>(`/api/ingest/eval-run/${run}/finalize`, {});
    expect(again.body).toEqual(fin.body);
    const other = await c().post<Json>(`/api/ingest/eval-run/${run}/finalize`, { status: 'failed' });
    expect(other.status).toBe(409);
    const late = await c().post<Json>(`/api/ingest/eval-run/${run}/result`, first);
    expect(late.status).toBe(409);

    // The portal: the list, the diff card, the rows with a compare button, the pill; all escaped.
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const list = await portal(app.current.baseUrl, user, '/portal/evals');
    expect(list.status).toBe(200);
    expect(list.html).toContain(`href="/portal/evals/${run}"`);
    expect(list.html).toContain('Recommend ship · 1/3 better');
    expect(list.html).toContain('2/2');
    const page = await portal(app.current.baseUrl, user, `/portal/evals/${run}`);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('<img src=x');
    expect(page.html).toContain('run &lt;img src=x onerror=alert(1)&gt;');
    expect(page.html).toContain('TypeError: &lt;img');
    expect(page.html).toMatch(/data-metric="reward_mean">.*data-verdict="better"/s);
    expect(page.html).toContain(`href="/portal/compare?ids=${b1},${cand}"`);
    expect(page.html.match(/portal\/compare\?ids=/g)?.length).toBe(1);
    const candPage = await portal(app.current.baseUrl, user, `/portal/episodes/${cand}`);
    expect(candPage.html).toContain(`data-eval-run-pill href="/portal/evals/${run}"`);
    expect(candPage.html).not.toContain('<img src=x');
  });

  it('an Idempotency-Key makes a repeated create answer the first run', async () => {
    const b = await episode();
    const body = { candidate_policy_version: 'v9', baseline_episode_ids: [b] };
    const headers = { 'idempotency-key': 'eval-run-key-1' };
    const one = await c().post<Json>('/api/ingest/eval-run', body, { headers });
    const two = await c().post<Json>('/api/ingest/eval-run', body, { headers });
    expect(two.status).toBe(201);
    expect(two.body.eval_run_id).toBe(one.body.eval_run_id);
    expect(two.headers.get('idempotent-replayed')).toBe('true');
  });

  it('bad input: empty or missing baselines, empty ids, unknown and foreign ids, bad metrics', async () => {
    await app.current.addProject('evals-other', OTHER_KEY);
    const foreign = await app.current.client(OTHER_KEY).post<Json>('/api/ingest/episode', { source: 'sim' });
    const foreignId = String(foreign.body.episode_id);
    const mine = await episode();

    const empty = await c().post<Json>('/api/ingest/eval-run', {
      candidate_policy_version: 'v',
      baseline_episode_ids: [],
    });
    expect(empty.status).toBe(400);
    expect(String(empty.body.error)).toContain('baseline_episode_ids');
    const blank = await c().post<Json>('/api/ingest/eval-run', {
      candidate_policy_version: 'v',
      baseline_episode_ids: [mine, ' '],
    });
    expect(blank.status).toBe(400);
    expect(String(blank.body.error)).toContain('baseline_episode_ids.1');
    for (const id of [foreignId, '00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      const r = await c().post<Json>('/api/ingest/eval-run', {
        candidate_policy_version: 'v',
        baseline_episode_ids: [mine, id],
      });
      expect(r.status).toBe(404);
      expect(String(r.body.error)).toContain(id);
    }
    const longName = await c().post<Json>('/api/ingest/eval-run', {
      candidate_policy_version: 'v',
      baseline_episode_ids: [mine],
      name: 'n'.repeat(190),
    });
    expect(longName.status).toBe(400);
    expect(String(longName.body.error)).toContain('name');
    const noVersion = await c().post<Json>('/api/ingest/eval-run', { baseline_episode_ids: [mine] });
    expect(noVersion.status).toBe(400);

    const run = String(
      (
        await c().post<Json>('/api/ingest/eval-run', {
          candidate_policy_version: 'v',
          baseline_episode_ids: [mine],
        })
      ).body.eval_run_id,
    );
    // Another project sees no such run.
    const theirs = await app.current.client(OTHER_KEY).post<Json>(`/api/ingest/eval-run/${run}/finalize`, {});
    expect(theirs.status).toBe(404);
    const notInRun = await c().post<Json>(`/api/ingest/eval-run/${run}/result`, {
      baseline_episode_id: foreignId,
      status: 'complete',
      metrics: {},
    });
    expect(notInRun.status).toBe(404);
    const arrayMetrics = await c().post<Json>(`/api/ingest/eval-run/${run}/result`, {
      baseline_episode_id: mine,
      status: 'complete',
      metrics: [1, 2],
    });
    expect(arrayMetrics.status).toBe(400);
    expect(String(arrayMetrics.body.error)).toContain('metrics');
    const nan = await c().post<Json>(`/api/ingest/eval-run/${run}/result`, undefined, {
      raw: `{"baseline_episode_id":"${mine}","status":"complete","metrics":{"action_l2_distance":NaN}}`,
    });
    expect(nan.status).toBe(400);
    const badStatus = await c().post<Json>(`/api/ingest/eval-run/${run}/result`, {
      baseline_episode_id: mine,
      status: 'done',
      metrics: {},
    });
    expect(badStatus.status).toBe(400);
    // Nothing half-written: the refused creates left no run behind.
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const list = await portal(app.current.baseUrl, user, '/portal/evals');
    expect(list.html.match(/href="\/portal\/evals\/[0-9a-f-]{36}"/g)?.length).toBe(3);
    const missing = await portal(
      app.current.baseUrl,
      user,
      '/portal/evals/00000000-0000-4000-8000-000000000000',
    );
    expect(missing.status).toBe(404);
  });

  it('create limits: name ≤ 200, robot ≤ 120, and {} is a valid create body', async () => {
    const ok = await c().post<Json>('/api/ingest/episode', {});
    expect(ok.status).toBe(201);
    expect((await c().get<Json>(`/api/episodes/${ok.body.episode_id}`)).body.source).toBe('real');
    expect(
      (await c().post('/api/ingest/episode', { name: 'n'.repeat(200), robot: 'r'.repeat(120) })).status,
    ).toBe(201);
    const longName = await c().post<Json>('/api/ingest/episode', { name: 'n'.repeat(201) });
    expect(longName.status).toBe(400);
    expect(String(longName.body.error)).toContain('name');
    const longRobot = await c().post<Json>('/api/ingest/episode', { robot: 'r'.repeat(121) });
    expect(longRobot.status).toBe(400);
    expect(String(longRobot.body.error)).toContain('robot');
  });
});
