import { describe, expect, it } from 'vitest';
import { type EvalResultInput, summarizeEvalRun } from '../../../src/evals/summary.js';

const complete = (metrics: Record<string, unknown>): EvalResultInput => ({ status: 'complete', metrics });

describe('eval run summary', () => {
  it('means each metric over complete results and says which way is better', () => {
    const s = summarizeEvalRun([
      complete({
        success_baseline: false,
        success_candidate: true,
        reward_total_baseline: 10,
        reward_total_candidate: 14,
        collision_count_baseline: 2,
        collision_count_candidate: 0,
      }),
      complete({
        success_baseline: true,
        success_candidate: true,
        reward_total_baseline: 20,
        reward_total_candidate: 18,
        collision_count_baseline: 0,
        collision_count_candidate: 0,
      }),
    ]);
    expect(s.success_rate).toEqual({ baseline: 0.5, candidate: 1, delta: 0.5, delta_is_better: true });
    expect(s.reward_mean).toEqual({ baseline: 15, candidate: 16, delta: 1, delta_is_better: true });
    expect(s.collision_rate).toEqual({ baseline: 1, candidate: 0, delta: -1, delta_is_better: true });
    expect(s.time_to_goal_s).toBeUndefined();
    expect(s).toMatchObject({ recommend: 'ship', better_count: 3, metric_total: 3, results_counted: 2 });
  });

  it('holds when any compared metric got worse, even if others improved', () => {
    const s = summarizeEvalRun([
      complete({
        success_baseline: 0,
        success_candidate: 1,
        time_to_goal_s_baseline: 4.0,
        time_to_goal_s_candidate: 5.5,
      }),
    ]);
    expect(s.time_to_goal_s?.delta_is_better).toBe(false);
    expect(s).toMatchObject({ recommend: 'hold', better_count: 1, metric_total: 2 });
  });

  it('holds on ties only: no evidence of improvement', () => {
    const s = summarizeEvalRun([complete({ reward_total_baseline: 3, reward_total_candidate: 3 + 1e-12 })]);
    expect(s.reward_mean?.delta_is_better).toBeNull();
    expect(s).toMatchObject({ recommend: 'hold', better_count: 0, metric_total: 1 });
  });

  it('ignores pending and failed results, one-sided pairs and non-finite values', () => {
    const s = summarizeEvalRun([
      { status: 'failed', metrics: { reward_total_baseline: 100, reward_total_candidate: -100 } },
      { status: 'pending', metrics: {} },
      complete({ reward_total_baseline: 1, reward_total_candidate: 2, success_baseline: true }),
      complete({
        reward_total_baseline: Number.NaN,
        reward_total_candidate: 50,
        collision_count_candidate: 'x',
      }),
    ]);
    expect(s.reward_mean).toEqual({ baseline: 1, candidate: 2, delta: 1, delta_is_better: true });
    expect(s.success_rate).toBeUndefined();
    expect(s.collision_rate).toBeUndefined();
    expect(s.results_counted).toBe(2);
  });

  it('reports the out-of-distribution share without letting it decide', () => {
    const s = summarizeEvalRun([
      complete({ ood_action_share: 0.2, success_baseline: false, success_candidate: true }),
      complete({ ood_action_share: 0.4 }),
    ]);
    expect(s.ood_action_share?.candidate).toBeCloseTo(0.3);
    expect(s.ood_action_share?.delta_is_better).toBeNull();
    expect(s).toMatchObject({ recommend: 'ship', better_count: 1, metric_total: 1 });
  });

  it('an empty run holds with nothing compared', () => {
    expect(summarizeEvalRun([])).toEqual({
      recommend: 'hold',
      better_count: 0,
      metric_total: 0,
      results_counted: 0,
    });
  });
});
