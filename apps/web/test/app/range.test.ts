import { randomBytes } from 'node:crypto';
import type { CreateEpisodeResponse } from '@robotrace/contracts';
import { describe, expect, it } from 'vitest';
import { parseRange } from '../../src/http/range.js';
import { useApp } from '../support/app.js';

describe('parseRange', () => {
  it('reads one bytes range: closed, open-ended, suffix, clamped to the size', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('', 100)).toBeNull();
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange(' bytes=10- ', 100)).toEqual({ start: 10, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=90-1000', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=99-99', 100)).toEqual({ start: 99, end: 99 });
  });

  it('answers invalid for what cannot be served: past the end, reversed, several ranges, other units, junk', () => {
    for (const header of [
      'bytes=100-',
      'bytes=100-200',
      'bytes=10-5',
      'bytes=-',
      'bytes=0-1,5-6',
      'items=0-1',
      'bytes=a-b',
      'bytes=1.5-2',
      'bytes 0-1',
    ])
      expect(parseRange(header, 100), header).toBe('invalid');
    expect(parseRange('bytes=0-', 0)).toBe('invalid');
    expect(parseRange('bytes=-0', 100)).toBe('invalid');
  });
});

describe('signed downloads honour Range (the video player seeks with it)', () => {
  const app = useApp();

  async function uploaded(bytes: Buffer): Promise<string> {
    const client = app.current.client();
    const created = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['video'],
    });
    const put = await fetch(created.body.upload_urls[0]?.url ?? '', {
      method: 'PUT',
      body: new Uint8Array(bytes),
      headers: { 'content-type': 'video/mp4' },
    });
    expect(put.status).toBe(200);
    const redirect = await client.get(`/api/episodes/${created.body.episode_id}/artifact/video`);
    expect(redirect.status).toBe(302);
    return redirect.headers.get('location') ?? '';
  }

  it('answers 206 with Content-Range for a range, 200 for the whole, 416 with the size for an impossible one', async () => {
    const video = randomBytes(5000);
    const url = await uploaded(video);
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(video)).toBe(true);
    for (const [range, start, end] of [
      ['bytes=100-199', 100, 199],
      ['bytes=4990-', 4990, 4999],
      ['bytes=-10', 4990, 4999],
      ['bytes=4000-999999', 4000, 4999],
    ] as const) {
      const res = await fetch(url, { headers: { range } });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/5000`);
      expect(res.headers.get('content-length'), range).toBe(String(end - start + 1));
      expect(Buffer.from(await res.arrayBuffer()).equals(video.subarray(start, end + 1)), range).toBe(true);
    }
    for (const range of ['bytes=5000-', 'bytes=9-3', 'bytes=0-1,3-4']) {
      const res = await fetch(url, { headers: { range } });
      await res.arrayBuffer();
      expect(res.status, range).toBe(416);
      expect(res.headers.get('content-range'), range).toBe('bytes */5000');
    }
  });

  it('answers HEAD with the length and no body', async () => {
    const url = await uploaded(randomBytes(1234));
    const res = await fetch(url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('1234');
    expect(await res.text()).toBe('');
  });
});
