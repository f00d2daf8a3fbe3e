import { describe, expect, it } from 'vitest';
import {
  analyzeFailure,
  batteryBrownout,
  replayRegression,
  reportedOutcome,
  traceAnomalies,
  trackAnomalies,
} from '../../../src/insights/rules.js';
import type { InsightInput, InsightSpan, TrackColumn } from '../../../src/insights/types.js';

const failed = (extra: Partial<InsightInput['episode']> = {}): InsightInput['episode'] => ({
  status: 'failed',
  failure_time_s: 8,
  duration_s: 10,
  metadata: {},
  ...extra,
});

/** 100 Hz samples over [0, 10] s from a function of time. */
function track(name: string, f: (t: number) => number): TrackColumn {
  const t_s = Array.from({ length: 1001 }, (_, i) => i / 100);
  return { name, t_s, values: t_s.map(f) };
}

const span = (over: Partial<InsightSpan>): InsightSpan => ({
  span_id: over.span_id ?? Math.random().toString(16).slice(2, 18),
  parent_span_id: 'root',
  name: 'policy.infer',
  service: 'policy',
  start_s: 0,
  end_s: 0.02,
  status: 'ok',
  ...over,
});

describe('insight rules', () => {
  it('reports the reason and the moment the caller gave', () => {
    const f = reportedOutcome({ episode: failed({ failure_reason: 'gripper slipped' }) });
    expect(f.map((x) => x.rule)).toEqual(['outcome.reason', 'outcome.time']);
    expect(f[0]?.title).toBe('Reported failure: gripper slipped');
    expect(f[1]).toMatchObject({ title: 'Failed at 8.0 s of 10.0 s', seek_s: 8 });
    expect(reportedOutcome({ episode: failed({ failure_time_s: null, failure_reason: ' ' }) })).toEqual([]);
  });

  it('flags a regression only when the replayed baseline succeeded', () => {
    expect(
      replayRegression({ episode: failed(), baseline: { episode_id: 'b1', succeeded: true } }),
    ).toHaveLength(1);
    expect(replayRegression({ episode: failed(), baseline: { episode_id: 'b1', succeeded: false } })).toEqual(
      [],
    );
    expect(replayRegression({ episode: failed() })).toEqual([]);
  });

  it('finds a nearly empty typed battery anywhere in the metadata', () => {
    const metadata = { power: { pack: { __type: 'robotrace.Battery', percent: 4, voltage_v: 10.8 } } };
    const [f] = batteryBrownout({ episode: failed({ metadata }) });
    expect(f).toMatchObject({
      rule: 'battery.brownout',
      evidence: { path: 'metadata.power.pack', percent: 4 },
    });
    const healthy = { battery: { __type: 'robotrace.Battery', percent: 80 } };
    expect(batteryBrownout({ episode: failed({ metadata: healthy }) })).toEqual([]);
  });

  it('sees a joint pinned at its limit before the failure, not a signal that merely moves', () => {
    const saturating = track('joint/position[2]', (t) => Math.min(1.5, t / 5));
    const moving = track('joint/position[0]', (t) => Math.sin(t));
    const found = trackAnomalies({ episode: failed(), tracks: [saturating, moving] });
    const sat = found.find((f) => f.rule === 'track.saturated');
    expect(sat).toMatchObject({ track: 'joint/position[2]', evidence: { value: 1.5 } });
    expect(sat?.seek_s).toBeCloseTo(7.5, 1);
    expect(found.filter((f) => f.track === 'joint/position[0]')).toEqual([]);
  });

  it('sees a sensor that froze mid-range and a spike near the failure', () => {
    const frozen = track('imu/angular_velocity[1]', (t) => (t < 7 ? Math.sin(3 * t) : Math.sin(21) * 0.5));
    const spiky = track('wrench/force[2]', (t) => (Math.abs(t - 7.8) < 0.001 ? 40 : Math.sin(5 * t)));
    const found = trackAnomalies({ episode: failed(), tracks: [frozen, spiky] });
    expect(found.find((f) => f.rule === 'track.flatline')?.track).toBe('imu/angular_velocity[1]');
    const spike = found.find((f) => f.rule === 'track.spike');
    expect(spike).toMatchObject({ track: 'wrench/force[2]', evidence: { value: 40 } });
    expect(spike?.seek_s).toBeCloseTo(7.8, 2);
  });

  it('reads error spans, a span far slower than its siblings, and retries before the failure', () => {
    const spans = [
      ...Array.from({ length: 8 }, (_, i) => span({ start_s: i, end_s: i + 0.02 })),
      span({ span_id: 'slow', start_s: 7.6, end_s: 7.78 }),
      span({
        span_id: 'e1',
        name: 'sensor.fetch',
        service: 'camera',
        start_s: 7.0,
        end_s: 7.1,
        status: 'error',
        status_message: 'timeout',
      }),
      span({ span_id: 'e2', name: 'sensor.fetch', service: 'camera', start_s: 7.2, end_s: 7.25 }),
    ];
    const found = traceAnomalies({ episode: failed(), spans });
    expect(found.find((f) => f.rule === 'trace.error_span')).toMatchObject({ span_id: 'e1', seek_s: 7 });
    expect(found.find((f) => f.rule === 'trace.slow_span')).toMatchObject({
      span_id: 'slow',
      title: 'policy.infer took 180 ms (typically 20 ms)',
    });
    expect(found.find((f) => f.rule === 'trace.retries')).toMatchObject({
      span_id: 'e1',
      evidence: { attempts: 2 },
    });
  });

  it('ranks every rule by confidence and survives a rule that throws', () => {
    const input: InsightInput = {
      episode: failed({
        failure_reason: 'dropped the cube',
        metadata: { battery: { __type: 'robotrace.Battery', percent: 3 } },
      }),
      tracks: [
        {
          name: 'bad',
          t_s: [0, 1],
          get values(): number[] {
            throw new Error('broken track');
          },
        } as TrackColumn,
      ],
    };
    const { findings, errors } = analyzeFailure(input);
    expect(findings[0]?.rule).toBe('outcome.reason');
    expect(findings.map((f) => f.confidence)).toEqual(
      [...findings.map((f) => f.confidence)].sort((a, b) => b - a),
    );
    expect(findings.some((f) => f.rule === 'battery.brownout')).toBe(true);
    expect(errors).toEqual(['trackAnomalies: broken track']);
  });
});
