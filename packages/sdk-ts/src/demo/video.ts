import { readFileSync } from 'node:fs';
import type { Mishap } from './motion.js';

/** One fixture clip shipped with the package (fixtures/demo/, made by fixtures/demo/make-clips.ts with ffmpeg). */
export interface DemoClip {
  file: string;
  mishap: Mishap;
  /** The cube's colour in the picture (only the clip maker reads it). */
  cube: string;
}

export const DEMO_CLIPS = {
  place: { file: 'pick-place.mp4', mishap: { kind: 'none' }, cube: '0x3b82f6' },
  slip: { file: 'pick-slip.mp4', mishap: { kind: 'slip', atS: 1.95 }, cube: '0xeab308' },
  estop: { file: 'pick-estop.mp4', mishap: { kind: 'estop', atS: 2.2 }, cube: '0xf97316' },
} as const satisfies Record<string, DemoClip>;

export type DemoClipName = keyof typeof DEMO_CLIPS;

// src/demo/ and dist/demo/ are both two levels below the package root, so one relative URL serves both.
export const DEMO_CLIP_DIR = new URL('../../fixtures/demo/', import.meta.url);

/** The bytes of a short H.264 MP4 (fast start) of a pick-and-place rollout. */
export function demoVideo(clip: DemoClipName = 'place'): Uint8Array {
  return readFileSync(new URL(DEMO_CLIPS[clip].file, DEMO_CLIP_DIR));
}
