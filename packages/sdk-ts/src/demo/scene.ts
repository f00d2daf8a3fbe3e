import type { YuvFrame } from './h264.js';

/**
 * A tiny pick-and-place rollout drawn frame by frame: a gripper comes down, grasps a cube and carries it to a
 * bin. In a failed rollout the cube slips out halfway. Flat colours keep most macroblocks unchanged between
 * frames, which keeps the PCM-coded video small.
 */
export interface SceneOptions {
  width: number;
  height: number;
  frames: number;
  /** RGB of the cube. */
  cube: [number, number, number];
  /** The cube slips out of the gripper in the second half. */
  drop: boolean;
}

type Rgb = [number, number, number];

export function renderScene(options: SceneOptions): YuvFrame[] {
  const { width, height, frames } = options;
  const out: YuvFrame[] = [];
  for (let f = 0; f < frames; f++) {
    const rgb = new Uint8Array(width * height * 3);
    const rect = (x: number, y: number, w: number, h: number, color: Rgb) => {
      for (let yy = Math.max(0, Math.round(y)); yy < Math.min(height, Math.round(y + h)); yy++) {
        for (let xx = Math.max(0, Math.round(x)); xx < Math.min(width, Math.round(x + w)); xx++) {
          rgb.set(color, (yy * width + xx) * 3);
        }
      }
    };
    const t = f / Math.max(1, frames - 1);
    const tableY = height - 24;
    rect(0, 0, width, tableY, [58, 66, 84]); // wall
    rect(0, tableY, width, height - tableY, [120, 98, 72]); // table
    rect(width - 40, tableY - 20, 32, 20, [40, 120, 70]); // bin

    // Gripper path: descend (0–0.3), lift (0.3–0.5), carry right (0.5–0.85), lower into the bin (0.85–1).
    const startX = 24;
    const binX = width - 32;
    const cubeSize = 14;
    const phase = (a: number, b: number) => Math.min(1, Math.max(0, (t - a) / (b - a)));
    const gx = startX + (binX - startX) * phase(0.5, 0.85);
    const liftY = tableY - cubeSize - 30;
    const gy =
      t < 0.3
        ? 4 + (tableY - cubeSize - 10 - 4) * phase(0, 0.3)
        : tableY - cubeSize - 10 - (tableY - cubeSize - 10 - liftY) * phase(0.3, 0.5) + 14 * phase(0.85, 1);
    const holding = t >= 0.3 && !(options.drop && t >= 0.65);
    let cubeX = startX - cubeSize / 2 + 4;
    let cubeY = tableY - cubeSize;
    if (holding) {
      cubeX = gx - cubeSize / 2 + 4;
      cubeY = gy + 10;
    } else if (options.drop && t >= 0.65) {
      // It falls straight down from where the gripper was when it slipped (t = 0.65).
      const slipX = startX + (binX - startX) * ((0.65 - 0.5) / (0.85 - 0.5));
      cubeX = slipX - cubeSize / 2 + 4;
      cubeY = Math.min(tableY - cubeSize, liftY + 10 + 900 * (t - 0.65) ** 2);
    }
    rect(cubeX, cubeY, cubeSize, cubeSize, options.cube);
    rect(gx, 0, 8, gy, [200, 200, 205]); // arm
    rect(gx - 6, gy, 20, 6, [230, 230, 235]); // gripper palm
    rect(gx - 6, gy + 6, 4, 10, [230, 230, 235]); // fingers
    rect(gx + 10, gy + 6, 4, 10, [230, 230, 235]);
    out.push(toYuv420(rgb, width, height));
  }
  return out;
}

/** BT.601 limited range, chroma averaged over 2×2 pixels. */
function toYuv420(rgb: Uint8Array, width: number, height: number): YuvFrame {
  const y = new Uint8Array(width * height);
  const u = new Uint8Array((width / 2) * (height / 2));
  const v = new Uint8Array((width / 2) * (height / 2));
  for (let i = 0; i < width * height; i++) {
    const r = rgb[i * 3] ?? 0;
    const g = rgb[i * 3 + 1] ?? 0;
    const b = rgb[i * 3 + 2] ?? 0;
    y[i] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
  }
  for (let cy = 0; cy < height / 2; cy++) {
    for (let cx = 0; cx < width / 2; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const) {
        const p = ((cy * 2 + dy) * width + cx * 2 + dx) * 3;
        r += rgb[p] ?? 0;
        g += rgb[p + 1] ?? 0;
        b += rgb[p + 2] ?? 0;
      }
      r /= 4;
      g /= 4;
      b /= 4;
      u[cy * (width / 2) + cx] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      v[cy * (width / 2) + cx] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  return { y, u, v };
}
