import { randomBytes } from 'node:crypto';
import type { CreateEpisodeResponse } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../../test/support/api.js';
import { TEST_API_KEY, TEST_PASSWORD } from '../../../../test/support/server.js';
import { startApp, type TestApp } from '../support/app.js';

describe('limits: rate limits, upload sizes, and secrets kept out of the log', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp({
      env: {
        ROBOTRACE_RATE_LIMIT_PER_MINUTE: '6',
        ROBOTRACE_MAX_UPLOAD_BYTES_VIDEO: '1000',
        ROBOTRACE_LOG_LEVEL: 'debug',
      },
    });
  });
  afterAll(() => server?.stop());

  it('answers 413 before storing an oversized artifact, per kind', async () => {
    const client = api(server.baseUrl, TEST_API_KEY);
    const r = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      request_uploads: ['video'],
    });
    const url = r.body.upload_urls[0]?.url ?? '';
    const big = await fetch(url, {
      method: 'PUT',
      body: new Uint8Array(randomBytes(5000)),
      headers: { 'content-type': 'video/mp4' },
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe('payload_too_large');
    const art = await client.get(`/api/episodes/${r.body.episode_id}/artifact/video`);
    expect(art.status).toBe(404);
    const ok = await fetch(url, {
      method: 'PUT',
      body: new Uint8Array(randomBytes(900)),
      headers: { 'content-type': 'video/mp4' },
    });
    expect(ok.status).toBe(200);
  });

  it('429 with Retry-After once the per-key budget is spent', async () => {
    const client = api(server.baseUrl, TEST_API_KEY);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i++) {
      const r = await client.get('/api/episodes?limit=1');
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after');
        expect(r.body).toMatchObject({ code: 'rate_limited' });
      }
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.slice(0, 4).every((s) => s === 200)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('never writes API keys, signatures or passwords to the log', () => {
    const log = server.output();
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(TEST_API_KEY);
    expect(log).not.toContain(TEST_PASSWORD);
    expect(log).not.toMatch(/sig=[A-Za-z0-9_-]{20,}/);
  });
});
