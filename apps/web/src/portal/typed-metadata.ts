import { type Html, html } from './html.js';

/**
 * Widgets for the six typed metadata values of OFFICIAL_PILLARS §4 (`{"__type": "robotrace.<Name>", …}`). The
 * server accepted them as plain JSON (a bad one is a warning at ingest, never a failed episode), so every value
 * is checked again here: a malformed one shows as plain JSON with a warning badge, an unknown `__type` as JSON.
 * Everything goes through the escaping template; numbers are formatted, never trusted as markup.
 */

type Obj = Record<string, unknown>;
type Check<T> = (v: Obj) => T | string;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const vec = (v: unknown, n?: number): v is number[] =>
  Array.isArray(v) && v.every(num) && (n === undefined ? v.length >= 1 : v.length === n);
const opt = <T>(v: unknown, ok: (x: unknown) => x is T): v is T | null | undefined =>
  v === null || v === undefined || ok(v);

/** A typed value: an object whose `__type` is a string. */
export function typeOf(value: unknown): string | null {
  return isObj(value) && typeof value.__type === 'string' ? value.__type : null;
}

const fmt = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined ? '—' : Number(v.toFixed(digits)).toString();

interface Joint {
  positions: number[];
  velocities: number[] | null;
  efforts: number[] | null;
  names: string[] | null;
}
const joint: Check<Joint> = (v) => {
  if (!vec(v.positions)) return 'positions must be at least one number';
  const n = v.positions.length;
  for (const k of ['velocities', 'efforts'] as const)
    if (!opt(v[k], (x): x is number[] => vec(x, n)))
      return `${k} must be ${n} numbers (as many as positions)`;
  const names = v.names;
  if (
    !(
      names === null ||
      names === undefined ||
      (Array.isArray(names) && names.length === n && names.every((s) => typeof s === 'string'))
    )
  )
    return `names must be ${n} strings (as many as positions)`;
  return {
    positions: v.positions,
    velocities: (v.velocities as number[] | null | undefined) ?? null,
    efforts: (v.efforts as number[] | null | undefined) ?? null,
    names: (names as string[] | null | undefined) ?? null,
  };
};

const pose: Check<{ t: number[]; q: number[] }> = (v) => {
  if (!vec(v.translation, 3)) return 'translation must be [x, y, z]';
  if (!vec(v.rotation, 4)) return 'rotation must be a quaternion [x, y, z, w]';
  if (Math.hypot(...v.rotation) < 1e-9) return 'rotation must not be the zero quaternion';
  return { t: v.translation, q: v.rotation };
};
const twist: Check<{ linear: number[]; angular: number[] }> = (v) =>
  !vec(v.linear, 3)
    ? 'linear must be [x, y, z]'
    : !vec(v.angular, 3)
      ? 'angular must be [x, y, z]'
      : { linear: v.linear, angular: v.angular };
const imu: Check<{ acc: number[]; gyro: number[]; q: number[] | null }> = (v) => {
  if (!vec(v.linear_acceleration, 3)) return 'linear_acceleration must be [x, y, z]';
  if (!vec(v.angular_velocity, 3)) return 'angular_velocity must be [x, y, z]';
  if (!opt(v.orientation, (x): x is number[] => vec(x, 4))) return 'orientation must be [x, y, z, w]';
  return {
    acc: v.linear_acceleration,
    gyro: v.angular_velocity,
    q: (v.orientation as number[] | null | undefined) ?? null,
  };
};
interface Battery {
  percent: number | null;
  voltage: number | null;
  current: number | null;
  charging: boolean | null;
}
const battery: Check<Battery> = (v) => {
  if (!opt(v.percent, num) || (num(v.percent) && (v.percent < 0 || v.percent > 100)))
    return 'percent must be 0–100';
  if (!opt(v.voltage_v, num)) return 'voltage_v must be a number';
  if (!opt(v.current_a, num)) return 'current_a must be a number';
  if (!(v.charging === null || v.charging === undefined || typeof v.charging === 'boolean'))
    return 'charging must be true or false';
  return {
    percent: (v.percent as number | null | undefined) ?? null,
    voltage: (v.voltage_v as number | null | undefined) ?? null,
    current: (v.current_a as number | null | undefined) ?? null,
    charging: (v.charging as boolean | null | undefined) ?? null,
  };
};
interface Outcome {
  success: boolean | null;
  reward: number | null;
  collisions: number | null;
  ttg: number | null;
}
const outcome: Check<Outcome> = (v) => {
  if (!(v.success === null || v.success === undefined || typeof v.success === 'boolean'))
    return 'success must be true or false';
  if (!opt(v.reward_total, num)) return 'reward_total must be a number';
  const c = v.collision_count;
  if (!(c === null || c === undefined || (Number.isInteger(c) && (c as number) >= 0)))
    return 'collision_count must be an integer ≥ 0';
  if (!opt(v.time_to_goal_s, num) || (num(v.time_to_goal_s) && v.time_to_goal_s < 0))
    return 'time_to_goal_s must be ≥ 0';
  return {
    success: (v.success as boolean | null | undefined) ?? null,
    reward: (v.reward_total as number | null | undefined) ?? null,
    collisions: (c as number | null | undefined) ?? null,
    ttg: (v.time_to_goal_s as number | null | undefined) ?? null,
  };
};

/** Quaternion [x, y, z, w] → roll, pitch, yaw in degrees (ZYX, the ROS convention). */
export function rollPitchYaw(q: number[]): [number, number, number] {
  const n = Math.hypot(...q);
  const [x, y, z, w] = q.map((c) => c / n) as [number, number, number, number];
  const roll = Math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y));
  const pitch = Math.asin(Math.max(-1, Math.min(1, 2 * (w * y - z * x))));
  const yaw = Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
  const deg = (r: number) => (r * 180) / Math.PI;
  return [deg(roll), deg(pitch), deg(yaw)];
}

const xyz = (label: string, v: number[], unit: string): Html =>
  html`<div><dt>${label}</dt><dd>${v.map((c, i) => html`<span class="tm-c"><span class="muted">${'xyzw'[i] ?? ''}</span> ${fmt(c)}</span>`)} <span class="muted small">${unit}</span></dd></div>`;

/** An inline SVG polyline over the values (no script, no style attribute: CSP-clean). */
function sparkline(values: number[], label: string): Html {
  const w = 120;
  const h = 24;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const pts = values
    .map(
      (v, i) =>
        `${((i / Math.max(1, values.length - 1)) * w).toFixed(1)},${(h - 2 - ((v - lo) / span) * (h - 4)).toFixed(1)}`,
    )
    .join(' ');
  return html`<svg class="tm-spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${label}"><polyline points="${pts}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>`;
}

function jointWidget(j: Joint): Html {
  const name = (i: number) => j.names?.[i] ?? `joint ${i}`;
  return html`<table class="tm-joints"><thead><tr><th scope="col">joint</th><th scope="col">position</th><th scope="col">velocity</th><th scope="col">effort</th></tr></thead><tbody>${j.positions.map(
    (p, i) =>
      html`<tr><th scope="row">${name(i)}</th><td>${fmt(p)}</td><td>${fmt(j.velocities?.[i])}</td><td>${fmt(j.efforts?.[i])}</td></tr>`,
  )}</tbody></table>`;
}

/** A list of JointStates over time: one sparkline per joint (by name), plus the last sample's table. */
function jointSeriesWidget(list: Joint[]): Html {
  const last = list[list.length - 1] as Joint;
  return html`<ul class="tm-sparks">${last.positions.map((_, i) => {
    const label = last.names?.[i] ?? `joint ${i}`;
    const series = list.map((j) => j.positions[i] ?? Number.NaN).filter(Number.isFinite);
    return html`<li><span class="tm-spark-label">${label}</span>${sparkline(series, `${label} position over ${list.length} samples`)}<span class="muted small">${fmt(series[series.length - 1])}</span></li>`;
  })}</ul>${jointWidget(last)}`;
}

function poseWidget(p: { t: number[]; q: number[] }): Html {
  const [r, pi, y] = rollPitchYaw(p.q);
  return html`<dl class="facts tm-facts">${xyz('translation', p.t, 'm')}${xyz('rotation', p.q, 'quaternion')}
<div><dt>roll · pitch · yaw</dt><dd>${fmt(r, 1)}° · ${fmt(pi, 1)}° · ${fmt(y, 1)}°</dd></div></dl>`;
}

function batteryWidget(b: Battery): Html {
  const level = b.percent === null ? 'unknown' : b.percent < 20 ? 'low' : b.percent < 50 ? 'mid' : 'ok';
  const parts = [
    b.percent === null ? null : `${fmt(b.percent, 0)} %`,
    b.voltage === null ? null : `${fmt(b.voltage, 2)} V`,
    b.current === null ? null : `${fmt(b.current, 2)} A ${b.current >= 0 ? 'discharging' : 'charging'}`,
    b.charging === null ? null : b.charging ? 'charging' : 'not charging',
  ].filter((x): x is string => x !== null);
  return html`<span class="tm-battery" data-level="${level}" role="img" aria-label="Battery ${parts.join(', ') || 'no readings'}">${
    parts.length ? parts.join(' · ') : 'no readings'
  }</span>`;
}

function outcomeWidget(o: Outcome): Html {
  const stat = (label: string, value: string) =>
    html`<div class="tm-stat"><dt>${label}</dt><dd>${value}</dd></div>`;
  return html`<dl class="tm-stats">${[
    stat('success', o.success === null ? '—' : o.success ? 'yes' : 'no'),
    stat('reward total', fmt(o.reward)),
    stat('collisions', o.collisions === null ? '—' : String(o.collisions)),
    stat('time to goal', o.ttg === null ? '—' : `${fmt(o.ttg, 2)} s`),
  ]}</dl>`;
}

const WIDGETS: Record<string, (v: Obj) => Html | string> = {
  'robotrace.JointState': (v) => {
    const j = joint(v);
    return typeof j === 'string' ? j : jointWidget(j);
  },
  'robotrace.Pose3D': (v) => {
    const p = pose(v);
    return typeof p === 'string' ? p : poseWidget(p);
  },
  'robotrace.Twist': (v) => {
    const t = twist(v);
    return typeof t === 'string'
      ? t
      : html`<dl class="facts tm-facts">${xyz('linear', t.linear, 'm/s')}${xyz('angular', t.angular, 'rad/s')}</dl>`;
  },
  'robotrace.Imu': (v) => {
    const m = imu(v);
    if (typeof m === 'string') return m;
    return html`<dl class="facts tm-facts">${xyz('linear acceleration', m.acc, 'm/s²')}${xyz('angular velocity', m.gyro, 'rad/s')}${
      m.q
        ? html`${xyz('orientation', m.q, 'quaternion')}<div><dt>roll · pitch · yaw</dt><dd>${rollPitchYaw(m.q)
            .map((a) => `${fmt(a, 1)}°`)
            .join(' · ')}</dd></div>`
        : ''
    }</dl>`;
  },
  'robotrace.Battery': (v) => {
    const b = battery(v);
    return typeof b === 'string' ? b : batteryWidget(b);
  },
  'robotrace.EpisodeOutcome': (v) => {
    const o = outcome(v);
    return typeof o === 'string' ? o : outcomeWidget(o);
  },
};

const rawJson = (value: unknown): Html =>
  html`<pre class="json-raw tm-raw"><code>${JSON.stringify(value, null, 2)}</code></pre>`;

/**
 * The widget for one metadata value, or null when it is not typed (the tree shows it as before). Also takes a
 * non-empty list of valid JointStates (a joint trajectory): sparklines per joint.
 */
export function typedWidget(key: string, value: unknown): Html | null {
  if (Array.isArray(value) && value.length >= 2 && value.every((v) => typeOf(v) === 'robotrace.JointState')) {
    const parsed = value.map((v) => joint(v as Obj));
    if (parsed.every((p): p is Joint => typeof p !== 'string'))
      return frame(key, `robotrace.JointState × ${value.length}`, jointSeriesWidget(parsed));
  }
  const type = typeOf(value);
  if (type === null) return null;
  const render = WIDGETS[type];
  if (!render)
    return frame(
      key,
      type,
      html`<p class="muted small">Not a type this portal draws: shown as JSON.</p>${rawJson(value)}`,
    );
  const out = render(value as Obj);
  if (typeof out === 'string')
    return frame(
      key,
      type,
      html`<p class="tm-warning"><span class="badge badge-warning" data-typed-warning>malformed</span> ${out} — shown as JSON.</p>${rawJson(value)}`,
      true,
    );
  return frame(key, type, out);
}

function frame(key: string, type: string, body: Html, malformed = false): Html {
  return html`<div class="typed-value" data-typed="${type}"${malformed ? html` data-malformed` : ''} role="group" aria-label="${key}: ${type}">
  <div class="tm-head"><span class="j-key">${key}</span> <span class="tm-type muted small">${type.replace(/^robotrace\./, '')}</span></div>
  ${body}
</div>`;
}
