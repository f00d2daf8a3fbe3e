import {
  CLIP_FPS,
  CLIP_SECONDS,
  type GripperPose,
  holding,
  type Mishap,
  plannedPose,
  robotTime,
} from './motion.js';
import type { NpyArray } from './npz.js';

/**
 * The sensor and action arrays of one demo episode, in the layout of the official adapters' NPZ files
 * (OFFICIAL_PILLARS.md §5): `<topic>/<field>` with the step on axis 0 and `<topic>/_t_ns` in int64 nanoseconds
 * from the episode start. Multi-column topics also carry `<topic>/_names` (one string per column), so a viewer
 * can label the joints; like `_t_ns` it is not a per-step field.
 */
export interface DemoTracks {
  sensors: Record<string, NpyArray>;
  actions: Record<string, NpyArray>;
}

export const DEMO_JOINTS = {
  ur5e: ['shoulder_pan', 'shoulder_lift', 'elbow', 'wrist_1', 'wrist_2', 'wrist_3'],
  franka: ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'],
} as const;
export type DemoArm = keyof typeof DEMO_JOINTS;

/** Joint states and gripper at 50 Hz; the policy commands at the video's frame rate. */
export const SENSOR_HZ = 50;
export const ACTION_HZ = CLIP_FPS;
/** How far the measured joints trail the command (a position controller's lag). */
const LAG_S = 0.04;
const OPEN_WIDTH_M = 0.085;
const CUBE_WIDTH_M = 0.05;

// A made-up but smooth arm: each joint mixes the pan (gripper x) and the reach down (gripper y).
const BASE = [0, -1.2, 1.4, -1.77, -1.57, 0, 0.8];
const PAN = [1, 0, 0, 0, 0, 0.5, 0.2];
const REACH = [0, 0.45, -0.6, 0.15, 0, 0, 0.3];

function jointAngles(pose: GripperPose, joints: number): number[] {
  const pan = ((pose.x - 160) / 176) * 1.6;
  const reach = (pose.y - 40) / 54;
  return Array.from(
    { length: joints },
    (_, j) => (BASE[j] ?? 0) + (PAN[j] ?? 0) * pan + (REACH[j] ?? 0) * reach,
  );
}

/** A small deterministic noise source (mulberry32), so a seed gives the same episode every run. */
function noise(seed: number): (scale: number) => number {
  let state = seed >>> 0;
  return (scale) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1) * scale;
  };
}

const times = (hz: number) => Array.from({ length: CLIP_SECONDS * hz + 1 }, (_, k) => k / hz);
const ns = (ts: number[]): NpyArray => ({
  dtype: 'int64',
  shape: [ts.length],
  data: ts.map((t) => BigInt(Math.round(t * 1e9))),
});
const f32 = (rows: number[][]): NpyArray => ({
  dtype: 'float32',
  shape: rows[0] === undefined || rows[0].length === 1 ? [rows.length] : [rows.length, rows[0].length],
  data: rows.flat(),
});
const flags = (values: boolean[]): NpyArray => ({ dtype: 'bool', shape: [values.length], data: values });
const names = (list: readonly string[]): NpyArray => ({ dtype: 'unicode', shape: [list.length], data: list });

export function demoTracks(arm: DemoArm, mishap: Mishap, seed: number): DemoTracks {
  const joints = DEMO_JOINTS[arm];
  const jitter = noise(seed);
  const st = times(SENSOR_HZ);
  const measured = (t: number) => plannedPose(robotTime(t, mishap) - LAG_S);
  const position = st.map((t) => jointAngles(measured(t), joints.length).map((q) => q + jitter(0.002)));
  // Velocity by the pose's own derivative, so the noise does not swamp it; zero once an e-stop froze the arm.
  const velocity = st.map((t) => {
    const [a, b] = [
      jointAngles(measured(t - 0.01), joints.length),
      jointAngles(measured(t + 0.01), joints.length),
    ];
    return a.map((q, j) => ((b[j] ?? q) - q) / 0.02);
  });
  // The cube leaves the fingers at the mishap's moment itself: a slip is not delayed by the controller.
  const held = st.map((t) => holding(t, mishap));
  // Fingers stop on the cube while it is held; once it slipped they close on nothing (width 0): the failure.
  const width = st.map((t, k) => {
    const open = OPEN_WIDTH_M * measured(t).open;
    return [held[k] ? Math.max(CUBE_WIDTH_M, open) : open];
  });
  const force = held.map((h) => [h ? 18 + jitter(0.4) : 0]);
  const estop = st.map((t) => mishap.kind === 'estop' && t >= mishap.atS);

  const at = times(ACTION_HZ);
  return {
    sensors: {
      'joints/position': f32(position),
      'joints/velocity': f32(velocity),
      'joints/_names': names(joints),
      'joints/_t_ns': ns(st),
      'gripper/width': f32(width),
      'gripper/force': f32(force),
      'gripper/holding': flags(held),
      'gripper/_t_ns': ns(st),
      'safety/estop': flags(estop),
      'safety/_t_ns': ns(st),
    },
    actions: {
      'command/joint_position': f32(at.map((t) => jointAngles(plannedPose(t), joints.length))),
      'command/gripper_close': f32(at.map((t) => [1 - plannedPose(t).open])),
      'command/_names': names(joints),
      'command/_t_ns': ns(at),
    },
  };
}
