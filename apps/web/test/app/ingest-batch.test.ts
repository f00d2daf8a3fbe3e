import { randomBytes } from 'node:crypto';
import type { CreateEpisodeResponse, Episode } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../../../test/support/api.js';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { TEST_API_KEY } from '../../../../test/support/server.js';
import { loadEnv } from '../../src/env.js';
import { startApp, type TestApp } from '../support/app.js';

/**
 * Group commit through the HTTP API: many creates and finalizes at once (a window long enough to gather them),
 * each answered with its own status — the bad ones with their own 4xx, the rest as if alone.
 */
describe.each(['pglite', 'postgres'] as const)('ingest batches over HTTP on %s', (kind) => {
  let app: TestApp;
  let pg: TestPostgres | undefined;
  let client: ReturnType<typeof api>;

  beforeAll(async () => {
    const env: Record<string, string> = { ROBOTRACE_GROUP_COMMIT_WINDOW_MS: '20' };
    if (kind === 'postgres') {
      pg = await startPostgres();
      env.DATABASE_URL = await pg.createDatabase();
      env.ROBOTRACE_SECRET = randomBytes(32).toString('hex');
    }
    app = await startApp({ env });
    client = api(app.baseUrl, TEST_API_KEY);
  });
  afterAll(async () => {
    await app?.stop();
    await pg?.stop();
  });

  it('concurrent creates: each gets its own answer, bad ones their own 4xx, a key replays', async () => {
    const run = `batch-${kind}-${randomBytes(3).toString('hex')}`;
    const post = (body: unknown, key?: string) =>
      client.post<CreateEpisodeResponse & { code?: string }>(
        '/api/ingest/episode',
        body,
        key ? { headers: { 'idempotency-key': key } } : {},
      );
    const good = Array.from({ length: 30 }, (_, i) =>
      post({ source: 'sim', name: `${run}-${i}`, request_uploads: ['video'] }, `${run}-k${i}`),
    );
    const [tooBig, badKey, unstorable, twinA, twinB, reused, ...ok] = await Promise.all([
      post(
        { source: 'sim', name: `${run}-big`, metadata: { blob: 'x'.repeat(1024 * 1024 + 10) } },
        `${run}-big`,
      ),
      post({ source: 'sim', name: `${run}-badkey` }, 'not a valid key'),
      post({ source: 'sim', name: `${run}-nul\u0000`, metadata: { s: '\ud800' } }, `${run}-nul`),
      post({ source: 'sim', name: `${run}-twin` }, `${run}-twin`),
      post({ source: 'sim', name: `${run}-twin` }, `${run}-twin`),
      post({ source: 'sim', name: `${run}-reused` }, `${run}-k0`),
      ...good,
    ]);
    expect(tooBig?.status).toBe(413);
    expect(badKey?.status).toBe(400);
    expect(unstorable?.status).toBe(201);
    expect(unstorable?.body.warnings.join(' ')).toMatch(/U\+FFFD/);
    // The same key and body twice at once: one episode, one of the two answers replayed.
    expect([twinA?.status, twinB?.status]).toEqual([201, 201]);
    expect(twinA?.body.episode_id).toBe(twinB?.body.episode_id);
    expect([twinA, twinB].filter((r) => r?.headers.get('idempotent-replayed') === 'true').length).toBe(1);
    // Key k0 with another body: 409 whichever of the two the batch wrote first.
    expect(reused?.status === 409 || ok[0]?.status === 409).toBe(true);
    const created = ok.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(29);
    expect(new Set(created.map((r) => r.body.episode_id)).size).toBe(created.length);
    for (const r of created) expect(r.body.upload_urls.map((u) => u.kind)).toEqual(['video']);

    const listed = await client.get<{ data: Episode[] }>(`/api/episodes?q=${run}&limit=200`);
    const names = listed.body.data.map((e) => e.name ?? '');
    expect(names.filter((n) => n.endsWith('-twin'))).toHaveLength(1);
    expect(names.some((n) => n.endsWith('-big') || n.endsWith('-badkey'))).toBe(false);
    expect(listed.body.data).toHaveLength(created.length + 2 + (reused?.status === 201 ? 1 : 0));
  });

  it('concurrent finalizes: a conflicting one gets its 409, the others their 200', async () => {
    const run = `fin-${kind}-${randomBytes(3).toString('hex')}`;
    const ids = await Promise.all(
      Array.from(
        { length: 12 },
        async (_, i) =>
          (
            await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
              source: 'sim',
              name: `${run}-${i}`,
            })
          ).body.episode_id,
      ),
    );
    expect((await client.post(`/api/ingest/episode/${ids[0]}/finalize`, { status: 'failed' })).status).toBe(
      200,
    );
    const results = await Promise.all(
      ids.map((id, i) =>
        client.post<Episode>(
          `/api/ingest/episode/${id}/finalize`,
          { status: 'ready', duration_s: i },
          { headers: { 'idempotency-key': `${run}-f${i}` } },
        ),
      ),
    );
    expect(results[0]?.status).toBe(409);
    for (const [i, r] of results.entries()) {
      if (i === 0) continue;
      expect(r.status, String(i)).toBe(200);
      expect(r.body).toMatchObject({ id: ids[i], status: 'ready', duration_s: i });
    }
    const replay = await client.post<Episode>(
      `/api/ingest/episode/${ids[5]}/finalize`,
      { status: 'ready', duration_s: 5 },
      { headers: { 'idempotency-key': `${run}-f5` } },
    );
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(results[5]?.body);
  });
});

describe('group commit knobs', () => {
  it('refuses a batch size of 0 or a window past a second, in one line naming the variable', () => {
    expect(() => loadEnv({ ROBOTRACE_GROUP_COMMIT_MAX_BATCH: '0' })).toThrow(
      /^invalid configuration: ROBOTRACE_GROUP_COMMIT_MAX_BATCH .*\(got "0"\)$/,
    );
    expect(() => loadEnv({ ROBOTRACE_GROUP_COMMIT_WINDOW_MS: '5000' })).toThrow(
      /^invalid configuration: ROBOTRACE_GROUP_COMMIT_WINDOW_MS .*\(got "5000"\)$/,
    );
    expect(loadEnv({})).toMatchObject({
      ROBOTRACE_GROUP_COMMIT_MAX_BATCH: 64,
      ROBOTRACE_GROUP_COMMIT_WINDOW_MS: 2,
    });
  });
});
