import { randomUUID } from 'node:crypto';
import type { Episode, ListEpisodesResponse } from '@robotrace/contracts';
import {
  ConflictError,
  createEpisode,
  finalizeEpisode,
  getEpisode,
  idempotent,
  listEpisodes,
  NotFoundError,
  type ProjectScope,
  pruneIdempotencyKeys,
} from '@robotrace/core';
import { describe, expect, it } from 'vitest';
import { ManualClock, useApp } from '../support/app.js';

/**
 * Core's episodes, idempotency and rate limits on the app's own services (a temporary PGlite, local disk),
 * with a clock the test moves: refills, retention and ordering without waiting on real time.
 */
const clock = new ManualClock();
const ctx = { baseUrl: 'http://robotrace.test' };

describe('core on a temporary PGlite', () => {
  const app = useApp({ env: { ROBOTRACE_RATE_LIMIT_PER_MINUTE: '3' }, clock });
  const deps = () => app.current.services.core;
  let scope: ProjectScope;
  const scopeOf = async () => {
    const list = await app.current.client().get<ListEpisodesResponse>('/api/episodes?limit=1');
    expect(list.status).toBe(200);
    // The key's project, as the API resolves it: read back from an episode the key created.
    const created = await app.current
      .client()
      .post<{ episode_id: string }>('/api/ingest/episode', { source: 'sim' });
    const row = await app.current.services.core.db.query.episode.findFirst({
      where: (e, { eq }) => eq(e.id, created.body.episode_id),
    });
    return { projectId: row?.projectId ?? '' };
  };

  it('refuses past the per-key budget with Retry-After, and refills with the clock', async () => {
    clock.advance(60_000); // a full bucket
    const client = app.current.client();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await client.get('/api/episodes?limit=1')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await client.get('/api/episodes?limit=1');
    expect(refused.body).toMatchObject({ code: 'rate_limited', details: { retry_after_s: 20 } });
    expect(refused.headers.get('retry-after')).toBe('20');
    clock.advance(20_000); // 3 per minute: one token every 20 s
    expect((await client.get('/api/episodes?limit=1')).status).toBe(200);
    expect((await client.get('/api/episodes?limit=1')).status).toBe(429);
    clock.advance(60_000);
  });

  it('creates, reads and finalizes within the scope; another project sees a 404', async () => {
    clock.advance(60_000);
    scope = await scopeOf();
    const created = await createEpisode(
      deps(),
      scope,
      { source: 'real', name: 'core-made', request_uploads: ['video'] },
      ctx,
    );
    expect(created).toMatchObject({ status: 'recording', storage: 'local', warnings: [] });
    expect(created.portal_url).toBe(`${ctx.baseUrl}/portal/episodes/${created.episode_id}`);
    expect(created.upload_urls.map((u) => u.kind)).toEqual(['video']);
    const other = { projectId: randomUUID() };
    await expect(getEpisode(deps(), other, created.episode_id, ctx)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      finalizeEpisode(deps(), other, created.episode_id, { status: 'ready' }, ctx),
    ).rejects.toBeInstanceOf(NotFoundError);
    clock.advance(5_000);
    const done = await finalizeEpisode(
      deps(),
      scope,
      created.episode_id,
      { status: 'failed', failure_time_s: 2 },
      ctx,
    );
    expect(done).toMatchObject({
      status: 'failed',
      failure_time_s: 2,
      finalized_at: clock.now().toISOString(),
    });
    await expect(
      finalizeEpisode(deps(), scope, created.episode_id, { status: 'ready' }, ctx),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it('stamps episodes with the clock and lists them newest first, filtered by time', async () => {
    const t0 = clock.now();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000);
      ids.push(
        (
          await createEpisode(
            deps(),
            scope,
            { source: 'sim', name: `timed-${i}`, policy_version: 'timed' },
            ctx,
          )
        ).episode_id,
      );
    }
    const page = await listEpisodes(deps(), scope, { policy_version: 'timed', limit: 50 }, ctx);
    expect(page.data.map((e: Episode) => e.id)).toEqual([...ids].reverse());
    expect(page.data.map((e: Episode) => e.created_at)).toEqual(
      [3, 2, 1].map((s) => new Date(t0.getTime() + s * 1000).toISOString()),
    );
    const after = new Date(t0.getTime() + 1_500).toISOString();
    const later = await listEpisodes(
      deps(),
      scope,
      { policy_version: 'timed', created_after: after, limit: 50 },
      ctx,
    );
    expect(later.data.map((e: Episode) => e.id)).toEqual([ids[2], ids[1]]);
  });

  it('runs idempotent work once per key and body, refuses another body, and forgets keys after retention', async () => {
    let runs = 0;
    const work = async () => {
      runs++;
      return { status: 201, body: { run: runs } };
    };
    const req = { key: `core-${randomUUID()}`, operation: 'create', rawBody: '{"source":"sim"}' };
    const first = await idempotent(deps(), scope, req, work);
    const again = await idempotent(deps(), scope, req, work);
    expect(first).toEqual({ status: 201, body: { run: 1 }, replayed: false });
    expect(again).toEqual({ status: 201, body: { run: 1 }, replayed: true });
    await expect(
      idempotent(deps(), scope, { ...req, rawBody: '{"source":"real"}' }, work),
    ).rejects.toBeInstanceOf(ConflictError);
    // Another operation or another project: a different key space.
    expect((await idempotent(deps(), scope, { ...req, operation: 'finalize:x' }, work)).replayed).toBe(false);
    const concurrent = await Promise.all(
      Array.from({ length: 6 }, () => idempotent(deps(), scope, { ...req, key: `${req.key}-race` }, work)),
    );
    expect(new Set(concurrent.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(concurrent.filter((r) => !r.replayed)).toHaveLength(1);
    const before = runs;
    clock.advance(49 * 3_600_000);
    await pruneIdempotencyKeys(deps());
    expect((await idempotent(deps(), scope, req, work)).replayed).toBe(false);
    expect(runs).toBe(before + 1);
  });
});
