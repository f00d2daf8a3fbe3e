import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { demoEpisodes } from '../../src/demo/episodes.js';
import { CLIP_FPS, CLIP_SECONDS, SCENE } from '../../src/demo/motion.js';
import { DEMO_CLIP_DIR, DEMO_CLIPS, type DemoClipName, demoVideo } from '../../src/demo/video.js';

interface Box {
  type: string;
  start: number;
  end: number;
}

/** Top-level or nested ISO BMFF boxes between start and end. */
function boxes(data: Uint8Array, start = 0, end = data.length): Box[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Box[] = [];
  for (let offset = start; offset < end; ) {
    const size = view.getUint32(offset);
    expect(size).toBeGreaterThanOrEqual(8);
    out.push({
      type: String.fromCharCode(...data.subarray(offset + 4, offset + 8)),
      start: offset,
      end: offset + size,
    });
    offset += size;
  }
  return out;
}

function find(data: Uint8Array, path: string[]): Box {
  let list = boxes(data);
  let found: Box | undefined;
  for (const [depth, type] of path.entries()) {
    found = list.find((b) => b.type === type);
    if (!found) throw new Error(`no ${type} box`);
    // Only container boxes are walked into; the last one may be a leaf with fields instead of children.
    if (depth < path.length - 1) list = boxes(data, found.start + 8, found.end);
  }
  return found as Box;
}

const names = Object.keys(DEMO_CLIPS) as DemoClipName[];

describe.each(names)('the %s clip', (name) => {
  const mp4 = demoVideo(name);
  const view = new DataView(mp4.buffer, mp4.byteOffset, mp4.byteLength);
  const u32 = (offset: number) => view.getUint32(offset);
  const stbl = ['moov', 'trak', 'mdia', 'minf', 'stbl'];

  it('is a fast-start MP4: the index (moov) before the media (mdat), boxes filling the file exactly', () => {
    const types = boxes(mp4).map((b) => b.type);
    expect(types[0]).toBe('ftyp');
    expect(types.indexOf('moov')).toBeGreaterThan(0);
    expect(types.indexOf('moov')).toBeLessThan(types.indexOf('mdat'));
    expect(boxes(mp4).at(-1)?.end).toBe(mp4.length);
  });

  it('has one baseline H.264 video track of the scene size, and no audio', () => {
    expect(
      boxes(mp4, find(mp4, ['moov']).start + 8, find(mp4, ['moov']).end).filter((b) => b.type === 'trak'),
    ).toHaveLength(1);
    const stsd = find(mp4, [...stbl, 'stsd']);
    const entry = boxes(mp4, stsd.start + 16, stsd.end)[0] as Box;
    expect(entry.type).toBe('avc1');
    expect([view.getUint16(entry.start + 32), view.getUint16(entry.start + 34)]).toEqual([
      SCENE.width,
      SCENE.height,
    ]);
    const avcC = boxes(mp4, entry.start + 86, entry.end).find((b) => b.type === 'avcC') as Box;
    expect(mp4[avcC.start + 9]).toBe(66); // AVCProfileIndication: Baseline
  });

  it(`lasts ${CLIP_SECONDS} s at ${CLIP_FPS} frames/s and starts on a keyframe`, () => {
    const stsz = find(mp4, [...stbl, 'stsz']);
    expect(u32(stsz.start + 16)).toBe(CLIP_SECONDS * CLIP_FPS);
    const mdhd = find(mp4, ['moov', 'trak', 'mdia', 'mdhd']);
    expect(u32(mdhd.start + 24) / u32(mdhd.start + 20)).toBe(CLIP_SECONDS);
    const stss = find(mp4, [...stbl, 'stss']);
    expect(u32(stss.start + 16)).toBe(1);
  });
});

describe('the demo clips', () => {
  it('are the only files next to their maker, and all together stay small', () => {
    const dir = fileURLToPath(DEMO_CLIP_DIR);
    const mp4s = readdirSync(dir).filter((f) => f.endsWith('.mp4'));
    expect(mp4s.sort()).toEqual(names.map((n) => DEMO_CLIPS[n].file).sort());
    const total = mp4s.reduce((n, f) => n + statSync(`${dir}/${f}`).size, 0);
    expect(total).toBeLessThan(100 * 1024);
  });
});

describe('demo episodes', () => {
  it('has sim and real runs, failures, and several episodes under one trace with distinct spans', () => {
    const { traceId, episodes } = demoEpisodes();
    const sources = new Set(episodes.map((e) => e.options.source));
    expect(sources).toEqual(new Set(['sim', 'real', 'replay']));
    expect(episodes.filter((e) => e.options.status === 'failed').length).toBeGreaterThanOrEqual(2);
    const traced = episodes
      .map((e) => (e.options.metadata?.otel as { traceparent?: string } | undefined)?.traceparent)
      .filter((tp): tp is string => tp !== undefined);
    expect(traced.length).toBeGreaterThanOrEqual(3);
    expect(traced.every((tp) => tp.startsWith(`00-${traceId}-`))).toBe(true);
    expect(new Set(traced.map((tp) => tp.split('-')[2])).size).toBe(traced.length);
  });

  it('fails each failed episode at the moment its clip shows the mishap', () => {
    const failed = demoEpisodes().episodes.filter((e) => e.options.status === 'failed');
    for (const e of failed) {
      const mishap = DEMO_CLIPS[e.clip].mishap;
      expect(mishap.kind).not.toBe('none');
      expect(e.options.failureTimeS).toBe(mishap.kind === 'none' ? undefined : mishap.atS);
      expect(e.arm).toBeDefined();
    }
    const ok = demoEpisodes().episodes.filter((e) => e.options.status !== 'failed' && e.clip !== 'slip');
    expect(ok.every((e) => DEMO_CLIPS[e.clip].mishap.kind === 'none')).toBe(true);
  });
});
