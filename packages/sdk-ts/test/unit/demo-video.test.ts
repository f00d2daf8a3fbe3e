import { describe, expect, it } from 'vitest';
import { demoEpisodes } from '../../src/demo/episodes.js';
import { DEMO_HEIGHT, DEMO_WIDTH, demoVideo } from '../../src/demo/video.js';

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

describe('demo video', () => {
  const mp4 = demoVideo({ seconds: 2, fps: 10 });
  const view = new DataView(mp4.buffer, mp4.byteOffset, mp4.byteLength);
  const u32 = (offset: number) => view.getUint32(offset);

  it('is a fast-start MP4: ftyp, moov, then mdat, filling the file exactly', () => {
    expect(boxes(mp4).map((b) => b.type)).toEqual(['ftyp', 'moov', 'mdat']);
    expect(boxes(mp4).at(-1)?.end).toBe(mp4.length);
    expect(String.fromCharCode(...mp4.subarray(8, 12))).toBe('isom');
  });

  it('declares one H.264 track of the right size, frame count and duration', () => {
    const avc1 = find(mp4, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd']);
    const entry = boxes(mp4, avc1.start + 16, avc1.end)[0];
    expect(entry?.type).toBe('avc1');
    expect(view.getUint16((entry?.start ?? 0) + 32)).toBe(DEMO_WIDTH);
    expect(view.getUint16((entry?.start ?? 0) + 34)).toBe(DEMO_HEIGHT);
    const stsz = find(mp4, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsz']);
    expect(u32(stsz.start + 16)).toBe(20);
    const mdhd = find(mp4, ['moov', 'trak', 'mdia', 'mdhd']);
    expect(u32(mdhd.start + 24) / u32(mdhd.start + 20)).toBe(2); // duration / timescale = 2 s
  });

  it('indexes samples that tile mdat exactly: an IDR frame first, then P frames', () => {
    const stbl = ['moov', 'trak', 'mdia', 'minf', 'stbl'];
    const stsz = find(mp4, [...stbl, 'stsz']);
    const count = u32(stsz.start + 16);
    const sizes = Array.from({ length: count }, (_, i) => u32(stsz.start + 20 + 4 * i));
    const stco = find(mp4, [...stbl, 'stco']);
    const mdat = find(mp4, ['mdat']);
    let offset = u32(stco.start + 16);
    expect(offset).toBe(mdat.start + 8);
    const nalTypes: number[] = [];
    for (const size of sizes) {
      expect(u32(offset)).toBe(size - 4); // 4-byte NAL length prefix
      nalTypes.push((mp4[offset + 4] ?? 0) & 0x1f);
      offset += size;
    }
    expect(offset).toBe(mdat.end);
    expect(nalTypes).toEqual([5, ...Array(count - 1).fill(1)]);
    const stss = find(mp4, [...stbl, 'stss']);
    expect([u32(stss.start + 12), u32(stss.start + 16)]).toEqual([1, 1]);
  });

  it('is small because unchanged macroblocks are skipped', () => {
    expect(mp4.length).toBeLessThan(200 * 1024);
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
});
