import { encodeH264 } from './h264.js';
import { muxMp4 } from './mp4.js';
import { renderScene } from './scene.js';

export interface DemoVideoOptions {
  cube?: [number, number, number];
  drop?: boolean;
  seconds?: number;
  fps?: number;
}

export const DEMO_WIDTH = 160;
export const DEMO_HEIGHT = 96;

/** A short, valid H.264 MP4 of a pick-and-place rollout, generated in memory (no ffmpeg needed). */
export function demoVideo(options: DemoVideoOptions = {}): Uint8Array {
  const fps = options.fps ?? 15;
  const frames = Math.max(2, Math.round((options.seconds ?? 3) * fps));
  const yuv = renderScene({
    width: DEMO_WIDTH,
    height: DEMO_HEIGHT,
    frames,
    cube: options.cube ?? [220, 60, 50],
    drop: options.drop ?? false,
  });
  return muxMp4(encodeH264(DEMO_WIDTH, DEMO_HEIGHT, yuv), DEMO_WIDTH, DEMO_HEIGHT, fps);
}
