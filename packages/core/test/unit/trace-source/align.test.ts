import { describe, expect, it } from 'vitest';
import { alignEpisode, toTimelineS } from '../../../src/trace-source/align.js';

const createdAt = new Date('2026-12-01T10:00:10.000Z');
const createdNs = BigInt(createdAt.getTime()) * 1_000_000n;

describe('episode alignment on the spans clock', () => {
  it('prefers absolute tracks, then the SDK start, then the episode span, then created_at − duration', () => {
    const all = {
      absoluteTracksStartNs: 5n,
      clientStartNs: 6n,
      episodeSpanStartNs: 7n,
      createdAt,
      durationS: 4,
    };
    expect(alignEpisode(all)).toMatchObject({ anchor: 'absolute_tracks', startUnixNs: 5n });
    expect(alignEpisode({ ...all, absoluteTracksStartNs: null })).toMatchObject({
      anchor: 'client_start',
      startUnixNs: 6n,
    });
    expect(alignEpisode({ createdAt, episodeSpanStartNs: 7n })).toMatchObject({
      anchor: 'episode_span',
      startUnixNs: 7n,
    });
    const fallback = alignEpisode({ createdAt, durationS: 4 });
    expect(fallback).toMatchObject({ anchor: 'created_at', startUnixNs: createdNs - 4_000_000_000n });
    expect(fallback.note).toMatch(/clock skew/);
  });

  it("puts a span on the timeline in seconds, and the user's shift moves spans later", () => {
    const a = alignEpisode({ createdAt, clientStartNs: 1_796_000_000_000_000_000n });
    expect(toTimelineS('1796000000180000000', a)).toBeCloseTo(0.18, 9);
    const shifted = alignEpisode({ createdAt, clientStartNs: 1_796_000_000_000_000_000n, userOffsetMs: 250 });
    expect(toTimelineS('1796000000180000000', shifted)).toBeCloseTo(0.43, 9);
    expect(shifted.note).toMatch(/shifted by 250 ms/);
  });
});
