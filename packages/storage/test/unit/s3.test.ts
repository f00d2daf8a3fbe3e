import { describe, expect, it } from 'vitest';
import { S3Store } from '../../src/s3.js';

// Presigning is local computation: these run without a bucket. Behaviour against a real S3 API (moto) is
// covered by apps/web/test/integration/scale-out.test.ts.
const now = Date.UTC(2026, 0, 1);
const store = new S3Store(
  {
    bucket: 'artifacts',
    region: 'us-east-1',
    endpoint: 'http://minio:9000',
    publicEndpoint: 'https://s3.lab.example',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-example' },
  },
  () => now,
);

describe('S3Store presigned URLs', () => {
  it('signs the slot content type into the upload URL, for the public endpoint', async () => {
    const signed = await store.signUpload('p1/e1/video', {
      contentType: 'video/mp4',
      expiresInS: 900,
    });
    const u = new URL(signed.url);
    expect(`${u.origin}${u.pathname}`).toBe('https://s3.lab.example/artifacts/p1/e1/video');
    expect(u.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['content-type', 'host']);
    expect(u.searchParams.get('X-Amz-Expires')).toBe('900');
    // No SDK-computed checksum of an empty body may be signed in: the client's real body would fail it.
    expect([...u.searchParams.keys()].some((k) => k.toLowerCase().includes('checksum'))).toBe(false);
    expect(signed.expiresAt.getTime()).toBe(now + 900_000);
  });

  it('presigns the same upload URL again for the same issue time (a keyed create replayed later)', async () => {
    const issuedAt = new Date(Date.UTC(2025, 11, 31, 23, 59, 30));
    const sign = () =>
      store.signUpload('p1/e1/video', { contentType: 'video/mp4', expiresInS: 900, issuedAt });
    const first = await sign();
    const again = await sign();
    expect(again).toEqual(first);
    expect(new URL(first.url).searchParams.get('X-Amz-Date')).toBe('20251231T235930Z');
    expect(first.expiresAt.getTime()).toBe(issuedAt.getTime() + 900_000);
    const now = await store.signUpload('p1/e1/video', { contentType: 'video/mp4', expiresInS: 900 });
    expect(now.url).not.toBe(first.url);
  });

  it('sets the response type and a safe disposition on download URLs', async () => {
    const video = new URL(
      (await store.signDownload('p1/e1/video', { expiresInS: 60, contentType: 'video/mp4' })).url,
    );
    expect(video.searchParams.get('response-content-type')).toBe('video/mp4');
    expect(video.searchParams.get('response-content-disposition')).toBe('inline');
    const html = new URL(
      (await store.signDownload('p1/e1/sensors', { expiresInS: 60, contentType: 'text/html' })).url,
    );
    expect(html.searchParams.get('response-content-disposition')).toBe('attachment');
  });
});
