/**
 * The one pick-and-place motion behind every demo episode. The fixture clips are drawn from it (by
 * fixtures/demo/make-clips.ts) and the sensor and action files are sampled from it, so the cube slipping in the
 * video, the gripper closing on nothing in the tracks and the episode's `failure_time_s` are one moment.
 */

/** The gripper in the clip's 320×180 picture: x of its centre, y of its top edge, fingers open (1) or shut (0). */
export interface GripperPose {
  x: number;
  y: number;
  open: number;
}

/** What goes wrong in a clip, and when (seconds from the episode start). */
export type Mishap = { kind: 'none' } | { kind: 'slip'; atS: number } | { kind: 'estop'; atS: number };

export const CLIP_SECONDS = 3;
export const CLIP_FPS = 15;
export const SCENE = { width: 320, height: 180, tableY: 130, cube: 24 } as const;

/** Key poses [t, x, y, open]; between two keys the gripper eases in and out (smoothstep). */
export const KEYS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 160, 40, 1],
  [0.8, 72, 40, 1],
  [1.2, 72, 94, 1],
  [1.4, 72, 94, 0],
  [1.8, 72, 40, 0],
  [2.6, 248, 40, 0],
  [2.9, 248, 94, 0],
  [3, 248, 94, 1],
];

/** The cube is in the gripper from the grasp until the release (or a slip). */
export const GRASP_S = 1.4;
export const RELEASE_S = 2.95;

const smooth = (u: number) => u * u * (3 - 2 * u);

/** The commanded pose at time t (the policy's plan; an e-stop does not change the plan, only the robot). */
export function plannedPose(t: number): GripperPose {
  const at = Math.min(Math.max(t, 0), CLIP_SECONDS);
  for (let i = 1; i < KEYS.length; i++) {
    const [t1, x1, y1, o1] = KEYS[i] as readonly [number, number, number, number];
    const [t0, x0, y0, o0] = KEYS[i - 1] as readonly [number, number, number, number];
    if (at <= t1) {
      const u = smooth((at - t0) / (t1 - t0));
      return { x: x0 + (x1 - x0) * u, y: y0 + (y1 - y0) * u, open: o0 + (o1 - o0) * u };
    }
  }
  const [, x, y, open] = KEYS[KEYS.length - 1] as readonly [number, number, number, number];
  return { x, y, open };
}

/** The robot's own clock through the plan: it stops at an e-stop (the arm freezes where it was). */
export function robotTime(t: number, mishap: Mishap): number {
  return mishap.kind === 'estop' ? Math.min(t, mishap.atS) : t;
}

/** Whether the gripper holds the cube at time t. */
export function holding(t: number, mishap: Mishap): boolean {
  const until = mishap.kind === 'slip' ? mishap.atS : RELEASE_S;
  const at = robotTime(t, mishap);
  return at >= GRASP_S && at < until;
}
