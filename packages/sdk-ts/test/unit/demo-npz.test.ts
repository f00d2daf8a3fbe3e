import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { demoEpisodes } from '../../src/demo/episodes.js';
import { CLIP_FPS, CLIP_SECONDS } from '../../src/demo/motion.js';
import { crc32, npy, npz } from '../../src/demo/npz.js';
import { DEMO_JOINTS, demoTracks, SENSOR_HZ } from '../../src/demo/tracks.js';
import { DEMO_CLIPS } from '../../src/demo/video.js';

// The demo's NPZ files read back by numpy itself (the SDK's dev venv), with pickle refused.
const PYTHON = fileURLToPath(new URL('../../../../.cache/venv-sdk/bin/python', import.meta.url));
const READ = `
import json, sys, zipfile
import numpy as np
out = {}
for path in sys.argv[1:]:
    assert zipfile.ZipFile(path).testzip() is None  # every member's CRC checks out
    with np.load(path, allow_pickle=False) as f:
        out[path] = {
            k: {
                "dtype": f[k].dtype.str,
                "shape": list(f[k].shape),
                # int64 as text, so JSON cannot round it through a float
                "values": f[k].astype(str).tolist() if f[k].dtype.kind == "i" else f[k].tolist(),
            }
            for k in f.files
        }
print(json.dumps(out))
`;
interface Loaded {
  dtype: string;
  shape: number[];
  values: unknown;
}

const dir = mkdtempSync(join(tmpdir(), 'robotrace-demo-npz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function loadWithNumpy(files: Record<string, Uint8Array>): Record<string, Record<string, Loaded>> {
  const paths = Object.entries(files).map(([name, bytes]) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  });
  const out = JSON.parse(execFileSync(PYTHON, ['-c', READ, ...paths], { encoding: 'utf8' })) as Record<
    string,
    Record<string, Loaded>
  >;
  return Object.fromEntries(Object.keys(files).map((name) => [name, out[join(dir, name)] ?? {}]));
}

describe('npy and npz writing', () => {
  it('computes the zip CRC-32 of the standard check string', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('aligns the array data to 64 bytes behind a newline-terminated header', () => {
    for (const shape of [[3], [2, 3], [0]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const bytes = npy({ dtype: 'float64', shape, data: Array(count).fill(1.5) });
      const headerLength = new DataView(bytes.buffer).getUint16(8, true);
      expect((10 + headerLength) % 64).toBe(0);
      expect(bytes[10 + headerLength - 1]).toBe(0x0a);
      expect(bytes.length).toBe(10 + headerLength + 8 * count);
    }
  });

  it('refuses a shape that does not match the data', () => {
    expect(() => npy({ dtype: 'float32', shape: [2, 2], data: [1, 2, 3] })).toThrow(/shape \(2, 2\)/);
  });

  it('writes every dtype so numpy reads the same values back', () => {
    const [file] = Object.values(
      loadWithNumpy({
        'all.npz': npz({
          'a/f32': { dtype: 'float32', shape: [2, 2], data: [0.5, -1, 2, 3.25] },
          'a/f64': { dtype: 'float64', shape: [2], data: [Math.PI, -0] },
          'a/_t_ns': { dtype: 'int64', shape: [2], data: [0n, 9_007_199_254_740_993n] },
          'b/ok': { dtype: 'bool', shape: [3], data: [true, false, true] },
          'b/_names': { dtype: 'unicode', shape: [2], data: ['elbow', 'grüße✓'] },
        }),
      }),
    );
    expect(file).toEqual({
      'a/f32': {
        dtype: '<f4',
        shape: [2, 2],
        values: [
          [0.5, -1],
          [2, 3.25],
        ],
      },
      'a/f64': { dtype: '<f8', shape: [2], values: [Math.PI, -0] },
      // Above 2^53: the int64 is written exactly, not through a float.
      'a/_t_ns': { dtype: '<i8', shape: [2], values: ['0', '9007199254740993'] },
      'b/ok': { dtype: '|b1', shape: [3], values: [true, false, true] },
      'b/_names': { dtype: '<U6', shape: [2], values: ['elbow', 'grüße✓'] },
    });
  });
});

describe('the demo episodes’ sensors and actions', () => {
  const rollouts = demoEpisodes().episodes.filter((e) => e.arm !== undefined);
  const files: Record<string, Uint8Array> = {};
  for (const [i, e] of rollouts.entries()) {
    const tracks = demoTracks(e.arm ?? 'ur5e', DEMO_CLIPS[e.clip].mishap, e.options.seed ?? i);
    files[`${i}-sensors.npz`] = npz(tracks.sensors);
    files[`${i}-actions.npz`] = npz(tracks.actions);
  }
  const loaded = loadWithNumpy(files);
  const member = (file: string, key: string): Loaded => {
    const found = loaded[file]?.[key];
    if (!found) throw new Error(`${file} has no member ${key}`);
    return found;
  };
  const sensorSteps = CLIP_SECONDS * SENSOR_HZ + 1;
  const actionSteps = CLIP_SECONDS * CLIP_FPS + 1;

  it('logs tracks for every rollout, on both arms', () => {
    expect(rollouts.length).toBeGreaterThanOrEqual(5);
    expect(new Set(rollouts.map((e) => e.arm))).toEqual(new Set(['ur5e', 'franka']));
  });

  it.each(rollouts.map((e, i) => [e.options.name, i] as const))('%s: members, shapes and dtypes', (_, i) => {
    const joints = DEMO_JOINTS[rollouts[i]?.arm ?? 'ur5e'];
    const shape = (f: Record<string, Loaded>) =>
      Object.fromEntries(Object.entries(f).map(([k, v]) => [k, [v.dtype, v.shape]]));
    expect(shape(loaded[`${i}-sensors.npz`] ?? {})).toEqual({
      'joints/position': ['<f4', [sensorSteps, joints.length]],
      'joints/velocity': ['<f4', [sensorSteps, joints.length]],
      'joints/_names': [`<U${Math.max(...joints.map((j) => j.length))}`, [joints.length]],
      'joints/_t_ns': ['<i8', [sensorSteps]],
      'gripper/width': ['<f4', [sensorSteps]],
      'gripper/force': ['<f4', [sensorSteps]],
      'gripper/holding': ['|b1', [sensorSteps]],
      'gripper/_t_ns': ['<i8', [sensorSteps]],
      'safety/estop': ['|b1', [sensorSteps]],
      'safety/_t_ns': ['<i8', [sensorSteps]],
    });
    expect(shape(loaded[`${i}-actions.npz`] ?? {})).toEqual({
      'command/joint_position': ['<f4', [actionSteps, joints.length]],
      'command/gripper_close': ['<f4', [actionSteps]],
      'command/_names': [`<U${Math.max(...joints.map((j) => j.length))}`, [joints.length]],
      'command/_t_ns': ['<i8', [actionSteps]],
    });
    expect(member(`${i}-sensors.npz`, 'joints/_names').values).toEqual([...joints]);
    // Times are relative to the episode start: 0 first, evenly spaced, ending at the episode's duration.
    const t = (member(`${i}-sensors.npz`, 'joints/_t_ns').values as string[]).map(Number);
    expect([t[0], t[1], t.at(-1)]).toEqual([0, 1e9 / SENSOR_HZ, CLIP_SECONDS * 1e9]);
    expect(rollouts[i]?.options.durationS).toBe(CLIP_SECONDS);
  });

  /** Sensor values of one rollout at the samples just before and from a moment on. */
  const around = (i: number, key: string, atS: number) => {
    const values = member(`${i}-sensors.npz`, key).values as unknown[];
    const k = Math.round(atS * SENSOR_HZ);
    return { before: values.slice(k - 5, k), after: values.slice(k, k + 5) };
  };

  it('a slip shows at failure_time_s: the gripper lets go of the cube and closes on nothing', () => {
    const i = rollouts.findIndex((e) => e.clip === 'slip' && e.options.status === 'failed');
    const at = rollouts[i]?.options.failureTimeS ?? Number.NaN;
    expect(at).toBe(1.95);
    const held = around(i, 'gripper/holding', at);
    expect(held).toEqual({ before: Array(5).fill(true), after: Array(5).fill(false) });
    const width = around(i, 'gripper/width', at);
    expect(width.before.every((w) => (w as number) > 0.045)).toBe(true);
    expect(width.after.every((w) => (w as number) < 0.005)).toBe(true);
    // A successful rollout holds the cube across that moment.
    const ok = rollouts.findIndex((e) => e.clip === 'place');
    expect(around(ok, 'gripper/holding', at).after).toEqual(Array(5).fill(true));
  });

  it('an e-stop shows at failure_time_s: the flag rises and the arm stops while the commands go on', () => {
    const i = rollouts.findIndex((e) => e.clip === 'estop');
    const at = rollouts[i]?.options.failureTimeS ?? Number.NaN;
    expect(at).toBe(2.2);
    expect(around(i, 'safety/estop', at)).toEqual({
      before: Array(5).fill(false),
      after: Array(5).fill(true),
    });
    const speed = (row: unknown) => Math.max(...(row as number[]).map(Math.abs));
    expect(speed(around(i, 'joints/velocity', at - 0.2).after[0])).toBeGreaterThan(0.1);
    const velocity = member(`${i}-sensors.npz`, 'joints/velocity').values as number[][];
    expect(velocity.slice(Math.round((at + 0.02) * SENSOR_HZ)).every((row) => speed(row) === 0)).toBe(true);
    const commands = member(`${i}-actions.npz`, 'command/joint_position').values as number[][];
    const k = Math.round(at * CLIP_FPS);
    expect(commands[k + 3]).not.toEqual(commands[k]);
  });
});
