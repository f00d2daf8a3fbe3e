import type { Finding, InsightInput, InsightSpan, TrackColumn } from './types.js';

/**
 * The insight rules. Each reads the input and returns zero or more findings; `analyzeFailure` runs them all and
 * ranks the result. Thresholds are deliberately conservative: a wrong "root cause" costs an engineer more than a
 * missing one.
 */

/** How far before the failure a track or span anomaly still counts as "shortly before" (seconds). */
export const LOOKBACK_S = 2;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

function failureTime(input: InsightInput): number | undefined {
  const t = input.episode.failure_time_s;
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  const d = input.episode.duration_s;
  return typeof d === 'number' && Number.isFinite(d) ? d : undefined;
}

/** The explicit outcome: the reason the caller gave, and a typed EpisodeOutcome that says it failed. */
export function reportedOutcome(input: InsightInput): Finding[] {
  const out: Finding[] = [];
  const reason = input.episode.failure_reason?.trim();
  if (reason)
    out.push({
      rule: 'outcome.reason',
      title: `Reported failure: ${reason}`,
      description: 'The episode was finalized as failed with this reason.',
      confidence: 0.9,
      evidence: { failure_reason: reason },
      next_step: 'Open the replay at the failure and check the moment the reason describes.',
      ...(input.episode.failure_time_s != null ? { seek_s: input.episode.failure_time_s } : {}),
    });
  const t = input.episode.failure_time_s;
  const d = input.episode.duration_s;
  if (typeof t === 'number' && Number.isFinite(t))
    out.push({
      rule: 'outcome.time',
      title:
        typeof d === 'number' && d > 0
          ? `Failed at ${t.toFixed(1)} s of ${d.toFixed(1)} s`
          : `Failed at ${t.toFixed(1)} s`,
      description:
        typeof d === 'number' && d > 0
          ? `The failure came ${round((100 * t) / d, 0)} % of the way through the episode.`
          : 'The failure time the caller reported.',
      confidence: 0.5,
      evidence: { failure_time_s: t, duration_s: d ?? null },
      next_step: 'Jump to the failure (f) and step back frame by frame.',
      seek_s: t,
    });
  return out;
}

/** A candidate that failed where the baseline it replayed succeeded: a regression of the policy, not the scene. */
export function replayRegression(input: InsightInput): Finding[] {
  if (input.baseline?.succeeded !== true) return [];
  return [
    {
      rule: 'eval.regression',
      title: 'Regressed against a baseline that succeeded',
      description: `This replay failed on a scenario whose baseline episode ${input.baseline.episode_id} succeeded.`,
      confidence: 0.8,
      evidence: { baseline_episode_id: input.baseline.episode_id },
      next_step: 'Compare the two episodes side by side, aligned at their starts.',
    },
  ];
}

interface BatteryValue {
  percent?: number | null;
  voltage_v?: number | null;
}

function batteriesIn(
  value: unknown,
  path: string,
  out: Array<{ path: string; value: BatteryValue }>,
  depth = 0,
): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) batteriesIn(v, `${path}[${i}]`, out, depth + 1);
    return;
  }
  const obj = value as Record<string, unknown>;
  if (obj.__type === 'robotrace.Battery') {
    out.push({ path, value: obj as BatteryValue });
    return;
  }
  for (const [k, v] of Object.entries(obj)) batteriesIn(v, path ? `${path}.${k}` : k, out, depth + 1);
}

/** Battery brownout: a typed robotrace.Battery value that was nearly empty. */
export const BROWNOUT_PERCENT = 10;
export function batteryBrownout(input: InsightInput): Finding[] {
  const found: Array<{ path: string; value: BatteryValue }> = [];
  batteriesIn(input.episode.metadata, '', found);
  return found
    .filter(({ value }) => typeof value.percent === 'number' && value.percent <= BROWNOUT_PERCENT)
    .map(({ path, value }) => ({
      rule: 'battery.brownout',
      title: `Battery at ${value.percent} %`,
      description: `metadata.${path} reports a nearly empty battery: motors may have browned out.`,
      confidence: 0.6,
      evidence: { path: `metadata.${path}`, percent: value.percent, voltage_v: value.voltage_v ?? null },
      next_step: 'Check the battery voltage under load and re-run on a charged pack.',
    }));
}

/** Indices of the samples in [from, to]. */
function windowOf(col: TrackColumn, from: number, to: number): number[] {
  const idx: number[] = [];
  col.t_s.forEach((t, i) => {
    if (t >= from && t <= to && Number.isFinite(col.values[i] ?? Number.NaN)) idx.push(i);
  });
  return idx;
}

function finiteRange(values: readonly number[]): { min: number; max: number } | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values)
    if (Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  return min <= max ? { min, max } : undefined;
}

/** At least this many consecutive samples pinned at the column's extreme before the failure count as saturation. */
const SATURATION_MIN_SAMPLES = 5;
/** A flat-line must last at least this long before the failure (seconds). */
const FLATLINE_MIN_S = 0.5;

/** From the replay tracks: saturated at min/max, flat-lined, or a spike, shortly before the failure. */
export function trackAnomalies(input: InsightInput): Finding[] {
  const at = failureTime(input);
  if (at === undefined || !input.tracks) return [];
  const out: Finding[] = [];
  for (const col of input.tracks) {
    const range = finiteRange(col.values);
    if (!range || range.max === range.min) continue;
    const span = range.max - range.min;
    const near = windowOf(col, at - LOOKBACK_S, at);
    if (near.length < SATURATION_MIN_SAMPLES) continue;
    const vals = near.map((i) => col.values[i] as number);
    // Saturation: the last samples sit on the extreme the column reaches over the whole episode.
    for (const [edge, label] of [
      [range.max, 'maximum'],
      [range.min, 'minimum'],
    ] as const) {
      let run = 0;
      for (let k = vals.length - 1; k >= 0 && Math.abs((vals[k] as number) - edge) <= span * 1e-3; k--) run++;
      if (run >= SATURATION_MIN_SAMPLES) {
        const start = col.t_s[near[vals.length - run] as number] as number;
        out.push({
          rule: 'track.saturated',
          title: `${col.name} saturated at its ${label}`,
          description: `${col.name} held ${round(edge, 4)} (its ${label} over the episode) for ${run} samples before the failure.`,
          confidence: 0.7,
          evidence: { track: col.name, value: edge, samples: run, from_s: round(start, 3) },
          next_step:
            'Check the joint or actuator limits and whether the command asked for more than it can give.',
          seek_s: start,
          track: col.name,
        });
      }
    }
    // Flat-line: the signal stopped changing for a while up to the failure although it moved before (a frozen
    // sensor or a stalled stream); a value pinned at an extreme is saturation, above, not a flat-line.
    const last = vals[vals.length - 1] as number;
    let flat = 0;
    for (let k = vals.length - 1; k >= 0 && vals[k] === last; k--) flat++;
    const flatFrom = col.t_s[near[vals.length - flat] as number] as number;
    const movedBefore = windowOf(col, Number.NEGATIVE_INFINITY, flatFrom).some((i) => col.values[i] !== last);
    if (
      flat >= SATURATION_MIN_SAMPLES &&
      at - flatFrom >= FLATLINE_MIN_S &&
      movedBefore &&
      last !== range.max &&
      last !== range.min
    )
      out.push({
        rule: 'track.flatline',
        title: `${col.name} flat-lined before the failure`,
        description: `${col.name} stopped changing ${round(at - flatFrom, 2)} s before the failure, after moving earlier: a frozen sensor or a stalled stream.`,
        confidence: 0.55,
        evidence: { track: col.name, value: last, samples: flat, from_s: round(flatFrom, 3) },
        next_step: 'Check the sensor driver and the topic rate around this moment.',
        seek_s: flatFrom,
        track: col.name,
      });
    // Spike: one sample far from the rest of the episode (robust z-score on the median absolute deviation).
    const sorted = [...col.values].filter(Number.isFinite).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] as number;
    const mad = [...sorted.map((v) => Math.abs(v - median))].sort((a, b) => a - b)[
      Math.floor(sorted.length / 2)
    ] as number;
    if (mad > 0) {
      let worst = -1;
      let worstZ = 0;
      for (const i of near) {
        const z = Math.abs((col.values[i] as number) - median) / (1.4826 * mad);
        if (z > worstZ) {
          worstZ = z;
          worst = i;
        }
      }
      if (worst >= 0 && worstZ >= 8)
        out.push({
          rule: 'track.spike',
          title: `Spike in ${col.name}`,
          description: `${col.name} reached ${round(col.values[worst] as number, 4)} at ${round(col.t_s[worst] as number, 2)} s, ${round(worstZ, 1)}× the episode's typical deviation.`,
          confidence: 0.6,
          evidence: { track: col.name, value: col.values[worst], z: round(worstZ, 1) },
          next_step: 'Look for a collision or a bad reading at this moment.',
          seek_s: col.t_s[worst] as number,
          track: col.name,
        });
    }
  }
  return out;
}

const durationOf = (s: InsightSpan) => s.end_s - s.start_s;

/** From the correlated trace: error spans, spans far slower than their siblings, retries before the failure. */
export function traceAnomalies(input: InsightInput): Finding[] {
  const spans = input.spans ?? [];
  if (spans.length === 0) return [];
  const at = failureTime(input) ?? Number.POSITIVE_INFINITY;
  const out: Finding[] = [];
  for (const s of spans.filter((s) => s.status === 'error'))
    out.push({
      rule: 'trace.error_span',
      title: `Error in ${s.name} (${s.service})`,
      description: s.status_message
        ? `The span ended with an error: ${s.status_message}`
        : 'The span ended with an error status.',
      confidence: s.start_s <= at && s.start_s >= at - LOOKBACK_S * 2 ? 0.75 : 0.5,
      evidence: { span: s.name, service: s.service, duration_ms: round(durationOf(s) * 1000, 1) },
      next_step: 'Open the span in your APM for its logs and exception.',
      seek_s: s.start_s,
      span_id: s.span_id,
    });
  const byName = new Map<string, InsightSpan[]>();
  for (const s of spans)
    byName.set(`${s.service}\u0000${s.name}`, [...(byName.get(`${s.service}\u0000${s.name}`) ?? []), s]);
  for (const group of byName.values()) {
    if (group.length >= 3) {
      const sorted = group.map(durationOf).sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] as number;
      for (const s of group) {
        const d = durationOf(s);
        if (median > 0 && d >= 3 * median && d - median >= 0.05)
          out.push({
            rule: 'trace.slow_span',
            title: `${s.name} took ${round(d * 1000, 0)} ms (typically ${round(median * 1000, 0)} ms)`,
            description: `This ${s.name} span was ${round(d / median, 1)}× slower than the median of its ${group.length} siblings.`,
            confidence: s.end_s <= at && s.end_s >= at - LOOKBACK_S ? 0.7 : 0.45,
            evidence: {
              span: s.name,
              service: s.service,
              duration_ms: round(d * 1000, 1),
              median_ms: round(median * 1000, 1),
            },
            next_step: 'Check what the slow call waited on (its child spans and the service at that moment).',
            seek_s: s.start_s,
            span_id: s.span_id,
          });
      }
    }
    // Retries: the same operation started again under the same parent shortly before the failure.
    const before = group.filter((s) => s.start_s <= at && s.start_s >= at - LOOKBACK_S * 2);
    const perParent = new Map<string, InsightSpan[]>();
    for (const s of before)
      perParent.set(s.parent_span_id ?? '', [...(perParent.get(s.parent_span_id ?? '') ?? []), s]);
    for (const siblings of perParent.values()) {
      const failedFirst = siblings.some((s) => s.status === 'error');
      const retried = siblings.some((s) => Number(s.attributes?.['http.request.resend_count'] ?? 0) > 0);
      if (siblings.length >= 2 && (failedFirst || retried)) {
        const first = siblings.reduce((a, b) => (a.start_s <= b.start_s ? a : b));
        out.push({
          rule: 'trace.retries',
          title: `${first.name} retried ${siblings.length - 1}× before the failure`,
          description: `${siblings.length} ${first.name} calls under one parent in the ${LOOKBACK_S * 2} s before the failure.`,
          confidence: 0.65,
          evidence: { span: first.name, service: first.service, attempts: siblings.length },
          next_step: 'Find why the first attempt failed; the retries may have cost the deadline.',
          seek_s: first.start_s,
          span_id: first.span_id,
        });
      }
    }
  }
  return out;
}

export const RULES = [
  reportedOutcome,
  replayRegression,
  batteryBrownout,
  trackAnomalies,
  traceAnomalies,
] as const;

/** Every rule over the input, most confident first; a rule that throws is skipped (recorded by the caller). */
export function analyzeFailure(input: InsightInput): { findings: Finding[]; errors: string[] } {
  const findings: Finding[] = [];
  const errors: string[] = [];
  for (const rule of RULES) {
    try {
      findings.push(...rule(input));
    } catch (err) {
      errors.push(`${rule.name}: ${(err as Error)?.message ?? String(err)}`);
    }
  }
  findings.sort((a, b) => b.confidence - a.confidence);
  return { findings, errors };
}
