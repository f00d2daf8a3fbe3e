import { verifyResult } from '@robotrace/db';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { useApp } from '../support/app.js';
import { portal, signIn } from '../support/portal-http.js';

/**
 * Release verification (OFFICIAL_PILLARS.md §2) on the app in process: promote (idempotent), results (derived
 * status), the gate (200 pass / 422 blocked, the same body), an eval run that records results on the scenarios
 * whose baselines it replayed, and the portal: the verify page, promote from an episode, severity and retire.
 */
const app = useApp();
const OTHER_KEY = 'rt_other_project_key_for_verify_001';
const XSS = '"><script>alert(1)</script>';
type Json = Record<string, unknown>;
const c = () => app.current.client();

async function episode(name: string): Promise<string> {
  const r = await c().post<Json>('/api/ingest/episode', { source: 'real', name });
  return String(r.body.episode_id);
}
const check = (v: string) => c().post<Json>('/api/verify/check', { candidate_policy_version: v });

describe('release verification', () => {
  it('promote → the gate blocks (422) until every critical scenario passes (200); results derive their status', async () => {
    const a = await episode(`door ${XSS}`);
    const b = await episode('shelf');
    const pa = await c().post<Json>('/api/verify/promote', {
      baseline_episode_id: a,
      severity: 'critical',
      description: `why ${XSS}`,
    });
    expect(pa.body).toMatchObject({ promoted: true });
    const again = await c().post<Json>('/api/verify/promote', {
      baseline_episode_id: a,
      severity: 'critical',
    });
    expect(again.body).toEqual({ scenario_id: pa.body.scenario_id, promoted: false });
    const pb = await c().post<Json>('/api/verify/promote', { baseline_episode_id: b });
    expect(pb.body.promoted).toBe(true);

    const pending = await check('v1');
    expect(pending.status).toBe(422);
    expect(pending.body).toMatchObject({
      passed: false,
      critical_total: 1,
      critical_passed: 0,
      critical_failed: 0,
      critical_pending: 1,
    });
    expect(pending.body.scenarios).toEqual([
      {
        scenario_id: pa.body.scenario_id,
        baseline_episode_id: a,
        severity: 'critical',
        name: null,
        latest_status: 'pending',
      },
      {
        scenario_id: pb.body.scenario_id,
        baseline_episode_id: b,
        severity: 'warning',
        name: null,
        latest_status: 'pending',
      },
    ]);
    expect((pending.body.blockers as string[])[0]).toContain('has no result for v1');

    // No status: derived from success_candidate; a later pass wins over an earlier fail.
    const fail = await c().post<Json>('/api/verify/result', {
      scenario_id: pa.body.scenario_id,
      candidate_policy_version: 'v1',
      metrics: { success_candidate: false },
    });
    expect(fail.body).toMatchObject({ status: 'fail' });
    expect((await check('v1')).body).toMatchObject({ critical_failed: 1, passed: false });
    const warn = await c().post<Json>('/api/verify/result', {
      scenario_id: pb.body.scenario_id,
      candidate_policy_version: 'v1',
      status: 'fail',
      metrics: {},
    });
    expect(warn.status).toBe(200);
    const pass = await c().post<Json>('/api/verify/result', {
      scenario_id: pa.body.scenario_id,
      candidate_policy_version: 'v1',
      metrics: { success_candidate: true },
    });
    expect(pass.body).toMatchObject({ status: 'pass' });
    const passed = await check('v1');
    expect(passed.status).toBe(200);
    expect(passed.body).toMatchObject({ passed: true, critical_passed: 1, blockers: [] });
    // A warning that fails is reported, never blocks; another version is still pending.
    expect((passed.body.scenarios as Json[])[1]).toMatchObject({ latest_status: 'fail' });
    expect((await check('v2')).status).toBe(422);

    // The verify page: severity groups, the gate for the chosen version, the checks' history, escaped text.
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const page = await portal(app.current.baseUrl, user, '/portal/verify?candidate=v1');
    expect(page.status).toBe(200);
    expect(page.html).toContain('data-gate="pass"');
    expect(page.html).not.toContain('<script>alert(1)');
    expect(page.html).toContain('why &quot;&gt;&lt;script&gt;');
    expect(page.html).toMatch(/data-severity="critical">[\s\S]*data-latest-status="pass"/);
    expect(page.html).toMatch(/data-severity="warning">[\s\S]*data-latest-status="fail"/);
    expect(page.html.match(/class="badge badge-(ready|failed)">(pass|blocked)</g)?.length).toBe(4);
    const blocked = await portal(app.current.baseUrl, user, '/portal/verify?candidate=v2');
    expect(blocked.html).toContain('data-gate="blocked"');

    // Change severity, then retire: the gate stops counting it.
    const sev = await portal(
      app.current.baseUrl,
      user,
      `/portal/verify/scenarios/${pb.body.scenario_id}/severity`,
      { severity: 'critical' },
    );
    expect(sev.status).toBe(303);
    expect((await check('v1')).body).toMatchObject({ critical_total: 2, passed: false });
    const retire = await portal(
      app.current.baseUrl,
      user,
      `/portal/verify/scenarios/${pb.body.scenario_id}/retire`,
      {},
    );
    expect(retire.status).toBe(303);
    expect((await check('v1')).body).toMatchObject({ critical_total: 1, passed: true });
  });

  it('completing an eval run records results on the scenarios whose baselines it replayed', async () => {
    const base = await episode('gate baseline');
    const sc = await c().post<Json>('/api/verify/promote', {
      baseline_episode_id: base,
      severity: 'critical',
    });
    const run = await c().post<Json>('/api/ingest/eval-run', {
      candidate_policy_version: 'v7',
      baseline_episode_ids: [base],
    });
    const id = String(run.body.eval_run_id);
    await c().post(`/api/ingest/eval-run/${id}/result`, {
      baseline_episode_id: base,
      status: 'complete',
      metrics: { success_baseline: true, success_candidate: true },
    });
    const statusOf = async () =>
      ((await check('v7')).body.scenarios as Json[]).find((x) => x.scenario_id === sc.body.scenario_id)
        ?.latest_status;
    expect(await statusOf()).toBe('pending');
    await c().post(`/api/ingest/eval-run/${id}/finalize`, {});
    expect(await statusOf()).toBe('pass');
    // Finalizing again records nothing twice: the scenario has exactly one result, from this run.
    await c().post(`/api/ingest/eval-run/${id}/finalize`, {});
    const rows = await app.current.services.core.db
      .select()
      .from(verifyResult)
      .where(eq(verifyResult.scenarioId, String(sc.body.scenario_id)));
    expect(rows.map((r) => [r.status, r.evalRunId])).toEqual([['pass', id]]);
  });

  it('promote from the episode page (severity + why this matters), same-origin only', async () => {
    const e = await episode('pick the red cube');
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const before = await portal(app.current.baseUrl, user, `/portal/episodes/${e}`);
    expect(before.html).toContain(`action="/portal/episodes/${e}/promote"`);
    const forged = await fetch(`${app.current.baseUrl}/portal/episodes/${e}/promote`, {
      method: 'POST',
      headers: {
        cookie: user.cookie,
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'severity=critical',
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
    const done = await portal(app.current.baseUrl, user, `/portal/episodes/${e}/promote`, {
      severity: 'info',
      name: `cube ${XSS}`,
      description: 'the demo everyone watches',
    });
    expect(done.status).toBe(303);
    const after = await portal(app.current.baseUrl, user, `/portal/episodes/${e}`);
    expect(after.html).toContain('data-promoted="info"');
    expect(after.html).toContain('the demo everyone watches');
    expect(after.html).not.toContain('<script>alert(1)');
  });

  it('bad input: unknown severity 400, foreign or unknown scenario and baseline 404, a result without a verdict is an error', async () => {
    await app.current.addProject('verify-other', OTHER_KEY);
    const theirs = String(
      (await app.current.client(OTHER_KEY).post<Json>('/api/ingest/episode', { source: 'sim' })).body
        .episode_id,
    );
    const mine = await episode('mine');
    const bad = await c().post<Json>('/api/verify/promote', {
      baseline_episode_id: mine,
      severity: 'blocker',
    });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toContain('severity');
    expect((await c().post('/api/verify/promote', { baseline_episode_id: theirs })).status).toBe(404);
    expect((await c().post('/api/verify/promote', { baseline_episode_id: '' })).status).toBe(400);
    const sc = await c().post<Json>('/api/verify/promote', { baseline_episode_id: mine });
    const foreignResult = await app.current.client(OTHER_KEY).post<Json>('/api/verify/result', {
      scenario_id: sc.body.scenario_id,
      candidate_policy_version: 'v',
      status: 'pass',
      metrics: {},
    });
    expect(foreignResult.status).toBe(404);
    // Nothing to derive a verdict from: recorded as an error, which blocks a critical scenario.
    const none = await c().post<Json>('/api/verify/result', {
      scenario_id: sc.body.scenario_id,
      candidate_policy_version: 'v-none',
      metrics: { reward: 1 },
    });
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ status: 'error' });
    const notUuid = await c().post<Json>('/api/verify/result', {
      scenario_id: sc.body.scenario_id,
      candidate_policy_version: 'v',
      status: 'pass',
      candidate_episode_id: 'ep-1',
    });
    expect(notUuid.status).toBe(400);
    expect(String(notUuid.body.error)).toContain('candidate_episode_id');
    const notObject = await c().post<Json>('/api/verify/result', {
      scenario_id: sc.body.scenario_id,
      candidate_policy_version: 'v',
      metrics: 'good',
    });
    expect(notObject.status).toBe(400);
    // The other project's gate knows nothing of ours.
    const otherGate = await app.current
      .client(OTHER_KEY)
      .post<Json>('/api/verify/check', { candidate_policy_version: 'v' });
    expect(otherGate.status).toBe(200);
    expect(otherGate.body).toMatchObject({ passed: true, critical_total: 0, scenarios: [] });
  });
});
