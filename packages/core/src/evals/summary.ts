/**
 * The eval-run summary (OFFICIAL_PILLARS.md §1): baseline vs candidate over the run's complete results.
 * The hosted product does not publish its math; ours, stated once here and in docs/EVALS.md:
 * - each metric is the mean over the results with status `complete` that carry both of its sides (a result with
 *   only one side, or a non-finite value, does not count for that metric);
 * - success and reward: higher is better; collisions and time to goal: lower is better;
 * - `ood_action_share` (the share of candidate actions outside the baselines' range) has no baseline of its own;
 *   it is reported (baseline 0, delta = candidate) but informational: `delta_is_better` is null and it never
 *   counts towards better/worse, since any non-zero share would otherwise block every policy that explores;
 * - a delta within 1e-9 of zero is a tie: neither better nor worse (`delta_is_better` null);
 * - `recommend` is "ship" when no compared metric got worse and at least one got better, else "hold".
 */

export interface MetricSummary {
  baseline: number;
  candidate: number;
  delta: number;
  /** True when the candidate improved, false when it regressed, null for a tie or an informational metric. */
  delta_is_better: boolean | null;
}

export interface EvalSummary {
  success_rate?: MetricSummary;
  reward_mean?: MetricSummary;
  collision_rate?: MetricSummary;
  time_to_goal_s?: MetricSummary;
  ood_action_share?: MetricSummary;
  recommend: 'ship' | 'hold';
  better_count: number;
  /** How many metrics were compared (the informational ones excluded). */
  metric_total: number;
  /** How many results the means were taken over. */
  results_counted: number;
}

/** One eval result as stored: its status and the metrics object the SDK sent. */
export interface EvalResultInput {
  status: 'pending' | 'complete' | 'failed';
  metrics: Record<string, unknown>;
}

type Direction = 'higher' | 'lower';

/** The compared metrics: summary key, the per-result metric stem, and which way is better. */
const COMPARED: ReadonlyArray<{ key: keyof EvalSummary; stem: string; better: Direction }> = [
  { key: 'success_rate', stem: 'success', better: 'higher' },
  { key: 'reward_mean', stem: 'reward_total', better: 'higher' },
  { key: 'collision_rate', stem: 'collision_count', better: 'lower' },
  { key: 'time_to_goal_s', stem: 'time_to_goal_s', better: 'lower' },
];

const TIE = 1e-9;

/** A metric value as a number: booleans count 1/0 (success), anything non-finite is absent. */
function numeric(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return undefined;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function compare(baseline: number, candidate: number, better: Direction): MetricSummary {
  const delta = candidate - baseline;
  const improved = better === 'higher' ? delta > TIE : delta < -TIE;
  const regressed = better === 'higher' ? delta < -TIE : delta > TIE;
  return { baseline, candidate, delta, delta_is_better: improved ? true : regressed ? false : null };
}

export function summarizeEvalRun(results: readonly EvalResultInput[]): EvalSummary {
  const complete = results.filter((r) => r.status === 'complete');
  const summary: EvalSummary = {
    recommend: 'hold',
    better_count: 0,
    metric_total: 0,
    results_counted: complete.length,
  };
  let worse = 0;
  for (const { key, stem, better } of COMPARED) {
    const baselines: number[] = [];
    const candidates: number[] = [];
    for (const r of complete) {
      const b = numeric(r.metrics[`${stem}_baseline`]);
      const c = numeric(r.metrics[`${stem}_candidate`]);
      if (b === undefined || c === undefined) continue;
      baselines.push(b);
      candidates.push(c);
    }
    if (baselines.length === 0) continue;
    const m = compare(mean(baselines), mean(candidates), better);
    (summary as unknown as Record<string, MetricSummary>)[key] = m;
    summary.metric_total++;
    if (m.delta_is_better === true) summary.better_count++;
    if (m.delta_is_better === false) worse++;
  }
  const ood = complete.map((r) => numeric(r.metrics.ood_action_share)).filter((v) => v !== undefined);
  if (ood.length > 0) {
    const candidate = mean(ood);
    summary.ood_action_share = { baseline: 0, candidate, delta: candidate, delta_is_better: null };
  }
  summary.recommend = worse === 0 && summary.better_count > 0 ? 'ship' : 'hold';
  return summary;
}
