import { describe, expect, it } from 'vitest';
import { metadataView } from '../../src/portal/metadata-view.js';
import { rollPitchYaw, typedWidget } from '../../src/portal/typed-metadata.js';

/** The rendered widget, as markup (the template helper's output, as the page sends it). */
const render = (key: string, value: unknown) => typedWidget(key, value)?.value ?? null;

describe('typed metadata widgets (OFFICIAL_PILLARS §4)', () => {
  it('draws a joint table with names, and sparklines for a list of joint states', () => {
    const one = render('arm', {
      __type: 'robotrace.JointState',
      positions: [0.1, -0.25],
      velocities: [0, 1],
      efforts: null,
      names: ['shoulder', 'elbow'],
    });
    expect(one).toContain('data-typed="robotrace.JointState"');
    expect(one).toContain('<th scope="row">shoulder</th><td>0.1</td><td>0</td><td>—</td>');
    expect(one).not.toContain('data-malformed');
    const series = render(
      'trajectory',
      [0, 1, 2].map((i) => ({ __type: 'robotrace.JointState', positions: [i, -i], names: ['a', 'b'] })),
    );
    expect(series).toContain('robotrace.JointState × 3');
    expect(series?.match(/<svg class="tm-spark"/g)).toHaveLength(2);
    expect(series).toContain('aria-label="a position over 3 samples"');
  });

  it('shows a pose as translation, quaternion and roll/pitch/yaw', () => {
    // 90° about z: yaw 90, roll and pitch 0.
    const s = Math.SQRT1_2;
    expect(rollPitchYaw([0, 0, s, s]).map((a) => Math.round(a))).toEqual([0, 0, 90]);
    const out = render('goal', {
      __type: 'robotrace.Pose3D',
      translation: [1, 2, 3],
      rotation: [0, 0, s, s],
    });
    expect(out).toContain('roll · pitch · yaw</dt><dd>0° · 0° · 90°');
    expect(out).toContain('<span class="muted small">m</span>');
  });

  it('draws twist, IMU, battery and outcome', () => {
    expect(render('cmd', { __type: 'robotrace.Twist', linear: [0.5, 0, 0], angular: [0, 0, 1] })).toContain(
      'rad/s',
    );
    const imu = render('imu', {
      __type: 'robotrace.Imu',
      linear_acceleration: [0, 0, 9.81],
      angular_velocity: [0, 0, 0],
      orientation: [0, 0, 0, 1],
    });
    expect(imu).toContain('9.81');
    expect(imu).toContain('roll · pitch · yaw');
    const low = render('battery', {
      __type: 'robotrace.Battery',
      percent: 12,
      voltage_v: 11.1,
      charging: false,
    });
    expect(low).toContain('data-level="low"');
    expect(low).toContain('12 % · 11.1 V · not charging');
    const o = render('outcome', {
      __type: 'robotrace.EpisodeOutcome',
      success: false,
      reward_total: 3.5,
      collision_count: 2,
      time_to_goal_s: null,
    });
    expect(o).toContain('<dt>success</dt><dd>no</dd>');
    expect(o).toContain('<dt>collisions</dt><dd>2</dd>');
  });

  it('shows a malformed typed value as JSON with a warning badge, and an unknown __type as JSON', () => {
    const cases: [unknown, string][] = [
      [{ __type: 'robotrace.JointState', positions: [1, 2], names: ['only one'] }, 'names must be 2 strings'],
      [{ __type: 'robotrace.JointState', positions: [] }, 'positions must be at least one number'],
      [{ __type: 'robotrace.Pose3D', translation: [1, 2], rotation: [0, 0, 0, 1] }, 'translation'],
      [{ __type: 'robotrace.Pose3D', translation: [1, 2, 3], rotation: [0, 0, 0, 0] }, 'zero quaternion'],
      [{ __type: 'robotrace.Twist', linear: [1, 'x', 0], angular: [0, 0, 0] }, 'linear'],
      [{ __type: 'robotrace.Imu', linear_acceleration: [0, 0, 0] }, 'angular_velocity'],
      [{ __type: 'robotrace.Battery', percent: 140 }, 'percent must be 0–100'],
      [{ __type: 'robotrace.EpisodeOutcome', collision_count: -1 }, 'collision_count'],
      [{ __type: 'robotrace.EpisodeOutcome', success: 'yes' }, 'success'],
    ];
    for (const [value, reason] of cases) {
      const out = render('bad', value);
      expect(out, JSON.stringify(value)).toContain('data-malformed');
      expect(out).toContain('data-typed-warning');
      expect(out).toContain(reason);
      expect(out).toContain('<pre class="json-raw tm-raw">');
    }
    const unknown = render('custom', { __type: 'acme.Gripper', width: 3 });
    expect(unknown).toContain('data-typed="acme.Gripper"');
    expect(unknown).toContain('shown as JSON');
    expect(unknown).not.toContain('data-malformed');
    expect(render('plain', { a: 1 })).toBeNull();
  });

  it('escapes names, keys and types from the metadata', () => {
    const out = metadataView({
      '<img src=x onerror=alert(1)>': {
        __type: 'robotrace.JointState',
        positions: [1],
        names: ['<script>alert(1)</script>'],
      },
      nested: { t: { __type: '<b>x</b>', v: '</pre><script>alert(2)</script>' } },
    }).value;
    expect(out).not.toMatch(/<script|<img|<b>/);
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).toContain('data-typed="&lt;b&gt;x&lt;/b&gt;"');
  });
});
