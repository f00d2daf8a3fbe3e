import { randomUUID } from 'node:crypto';
import type { CreateEpisodeRequest, CreateEpisodeResponse, Episode } from '@robotrace/contracts';
import { episode, idempotencyKey } from '@robotrace/db';
import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { getEpisode, listEpisodes } from '../../src/episodes.js';
import { ConflictError, ValidationError } from '../../src/errors.js';
import { episodeIdForKey } from '../../src/ids.js';
import { type IngestBatcher, ingestBatcher } from '../../src/ingest-batch.js';
import { createProject } from '../../src/projects.js';
import { coreOn, DATABASE_KINDS } from '../support/each-database.js';

const ctx = { baseUrl: 'http://rt.test' };
const create = (name: string, extra: Partial<CreateEpisodeRequest> = {}): CreateEpisodeRequest => ({
  source: 'sim',
  name,
  ...extra,
});

describe.each(DATABASE_KINDS)('group commit of creates and finalizes (%s)', (kind) => {
  const core = coreOn(kind);
  // A window long enough that every call of one test lands in one batch, whatever the machine's load.
  const batcher = (): IngestBatcher =>
    ingestBatcher(core().deps, {
      windowMs: 50,
      maxBatch: 64,
      concurrency: 2,
      maxWaitMs: 20_000,
      maxQueue: 1000,
    });
  const project = async (name: string) => ({
    projectId: (await createProject(core().deps, `${name}-${kind}`)).id,
  });

  it('gathers concurrent creates into one statement; each caller gets its own episode', async () => {
    const b = batcher();
    const scope = await project('gather');
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        b.create(scope, create(`gather-${i}`, { request_uploads: i % 2 ? ['video', 'sensors'] : [] }), ctx),
      ),
    );
    expect(b.stats().creates.batches).toBeLessThan(40);
    expect(b.stats().creates.items).toBe(40);
    const ids = results.map((r) => (r.body as CreateEpisodeResponse).episode_id);
    expect(new Set(ids).size).toBe(40);
    for (const [i, r] of results.entries()) {
      expect(r.status).toBe(201);
      expect(r.replayed).toBe(false);
      const body = r.body as CreateEpisodeResponse;
      expect(body.upload_urls.map((u) => u.kind)).toEqual(i % 2 ? ['video', 'sensors'] : []);
      const stored = await getEpisode(core().deps, scope, body.episode_id, ctx);
      expect(stored.name).toBe(`gather-${i}`);
      expect(stored.artifacts.map((a) => a.kind).sort()).toEqual(i % 2 ? ['sensors', 'video'] : []);
    }
  });

  it('a row the database cannot store fails only its own request, with a 400', async () => {
    const b = batcher();
    const scope = await project('bad-row');
    const results = await Promise.allSettled(
      Array.from({ length: 9 }, (_, i) =>
        // seed beyond bigint: the contract stops it at the edge; here it reaches the database.
        b.create(scope, create(`bad-row-${i}`, i === 4 ? { seed: 1e300 } : {}), ctx),
      ),
    );
    expect(b.stats().creates.batches).toBe(1);
    const bad = results[4];
    expect(bad?.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(ValidationError);
    expect(((bad as PromiseRejectedResult).reason as ValidationError).status).toBe(400);
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(8);
    const names = await core()
      .deps.db.select({ name: episode.name })
      .from(episode)
      .where(eq(episode.projectId, scope.projectId));
    expect(names.map((n) => n.name).sort()).toEqual(
      Array.from({ length: 9 }, (_, i) => `bad-row-${i}`)
        .filter((n) => n !== 'bad-row-4')
        .sort(),
    );
  });

  it('a row breaking a constraint (its project is gone) fails only its own request, with a 409', async () => {
    const b = batcher();
    const scope = await project('fk');
    const gone = { projectId: randomUUID() };
    const results = await Promise.allSettled([
      b.create(scope, create('fk-0'), ctx, { key: `fk-a-${kind}`, rawBody: 'a' }),
      b.create(gone, create('fk-gone'), ctx, { key: `fk-b-${kind}`, rawBody: 'b' }),
      b.create(scope, create('fk-2'), ctx),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[1] as PromiseRejectedResult).reason as ConflictError;
    expect(reason).toBeInstanceOf(ConflictError);
    expect(reason.status).toBe(409);
    // The refused row left nothing behind (a keyed create's claim is its episode row): a retry runs again.
    const left = await core()
      .deps.db.select({ id: episode.id })
      .from(episode)
      .where(eq(episode.id, episodeIdForKey(gone.projectId, `fk-b-${kind}`)));
    expect(left).toEqual([]);
    const written = await core()
      .deps.db.select({ id: episode.id })
      .from(episode)
      .where(eq(episode.id, episodeIdForKey(scope.projectId, `fk-a-${kind}`)));
    expect(written).toHaveLength(1);
  });

  it('an Idempotency-Key replays the stored response, in the same batch and in a later one', async () => {
    const b = batcher();
    const scope = await project('idem');
    const key = `idem-${kind}`;
    const body = create('idem', { request_uploads: ['video'] });
    const rawBody = JSON.stringify(body);
    const [first, sameBatch] = await Promise.all([
      b.create(scope, body, ctx, { key, rawBody }),
      b.create(scope, body, ctx, { key, rawBody }),
    ]);
    expect(first?.replayed).toBe(false);
    expect(sameBatch).toEqual({ ...first, replayed: true });
    const later = await b.create(scope, body, ctx, { key, rawBody });
    expect(later).toEqual({ ...first, replayed: true });
    await expect(
      b.create(scope, create('other'), ctx, { key, rawBody: '{"other":1}' }),
    ).rejects.toMatchObject({
      status: 409,
      details: { reason: 'idempotency_key_reused' },
    });
    const rows = await core()
      .deps.db.select({ id: episode.id })
      .from(episode)
      .where(and(eq(episode.projectId, scope.projectId), eq(episode.name, 'idem')));
    expect(rows.map((r) => r.id)).toEqual([(first?.body as CreateEpisodeResponse | undefined)?.episode_id]);
  });

  it('text outside ASCII is stored as sent, and a keyed create replays it unchanged', async () => {
    // The batch's input travels as bytes (jsonb's binary form on PGlite): a length counted in characters
    // instead of UTF-8 bytes would cut or refuse these rows.
    const b = batcher();
    const scope = await project('utf8');
    const name = 'greif 🤖 — Über 抓取';
    const body = create(name, { metadata: { note: 'é'.repeat(300), emoji: '🦾'.repeat(50) } });
    const rawBody = JSON.stringify(body);
    const [keyed, plain] = await Promise.all([
      b.create(scope, body, ctx, { key: `utf8-${kind}`, rawBody }),
      b.create(scope, body, ctx),
    ]);
    for (const r of [keyed, plain]) {
      const stored = await getEpisode(core().deps, scope, (r.body as CreateEpisodeResponse).episode_id, ctx);
      expect(stored.name).toBe(name);
      expect(stored.metadata).toMatchObject({ note: 'é'.repeat(300), emoji: '🦾'.repeat(50) });
    }
    expect(await b.create(scope, body, ctx, { key: `utf8-${kind}`, rawBody })).toEqual({
      ...keyed,
      replayed: true,
    });
  });

  it('a batch mixing retried keys with fresh ones: the retries replay, each fresh key gets its own episode', async () => {
    const b = batcher();
    const scope = await project('mixed');
    const body = (i: number) => create(`mixed-${i}`);
    const send = (i: number) =>
      b.create(scope, body(i), ctx, { key: `mixed-${kind}-${i}`, rawBody: JSON.stringify(body(i)) });
    const earlier = await Promise.all([0, 2, 4].map(send));
    // One batch: keys 0, 2, 4 were claimed by the batch above, 1, 3, 5 are new.
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map(send));
    expect(results.map((r) => r.replayed)).toEqual([true, false, true, false, true, false]);
    expect([0, 2, 4].map((i) => results[i])).toEqual(earlier.map((r) => ({ ...r, replayed: true })));
    const names = await core()
      .deps.db.select({ name: episode.name })
      .from(episode)
      .where(eq(episode.projectId, scope.projectId));
    expect(names.map((r) => r.name).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `mixed-${i}`));
  });

  it('the same key from two batchers at once (two instances) yields one episode', async () => {
    const [a, b] = [batcher(), batcher()];
    const scope = await project('race');
    const body = create('race');
    const rawBody = JSON.stringify(body);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).create(scope, body, ctx, { key: 'race', rawBody })),
    );
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => (r.body as CreateEpisodeResponse).episode_id)).size).toBe(1);
    const [{ n } = { n: -1 }] = await core()
      .deps.db.select({ n: sql<number>`count(*)::int` })
      .from(episode)
      .where(eq(episode.projectId, scope.projectId));
    expect(n).toBe(1);
  });

  it('created_at follows the order of creation, and cursors page through a batch exactly once', async () => {
    const b = batcher();
    const scope = await project('order');
    const { clock } = core();
    const sequential: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1);
      sequential.push(
        ((await b.create(scope, create(`seq-${i}`), ctx)).body as CreateEpisodeResponse).episode_id,
      );
    }
    // 30 more in one batch, all in the same millisecond.
    clock.advance(1);
    const same = await Promise.all(
      Array.from({ length: 30 }, (_, i) => b.create(scope, create(`same-${i}`), ctx)),
    );
    const seen: Episode[] = [];
    let cursor: string | undefined;
    do {
      const page = await listEpisodes(core().deps, scope, { limit: 7, ...(cursor ? { cursor } : {}) }, ctx);
      seen.push(...page.data);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(35);
    expect(new Set(seen.map((e) => e.id)).size).toBe(35);
    // Newest first: the batch (latest millisecond), then the sequential ones newest to oldest.
    expect(seen.slice(30).map((e) => e.id)).toEqual([...sequential].reverse());
    expect(new Set(seen.slice(0, 30).map((e) => e.id))).toEqual(
      new Set(same.map((r) => (r.body as CreateEpisodeResponse).episode_id)),
    );
    const times = seen.map((e) => Date.parse(e.created_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
  });

  it('finalizes in one transaction: a conflicting one fails alone, a keyed one replays', async () => {
    const b = batcher();
    const scope = await project('fin');
    const ids = await Promise.all(
      Array.from(
        { length: 8 },
        async (_, i) =>
          ((await b.create(scope, create(`fin-${i}`), ctx)).body as CreateEpisodeResponse).episode_id,
      ),
    );
    const [conflicted] = ids;
    await b.finalize(scope, conflicted ?? '', { status: 'failed' }, ctx);
    const before = b.stats().finalizes.batches;
    const results = await Promise.allSettled(
      ids.map((id, i) =>
        b.finalize(scope, id, { status: 'ready', duration_s: i }, ctx, {
          key: `fin-${kind}-${i}`,
          rawBody: `ready-${i}`,
        }),
      ),
    );
    // Gathered (the reads before a finalize end at different times on PostgreSQL, so not always into one).
    expect(b.stats().finalizes.batches - before).toBeLessThan(ids.length);
    expect(results[0]?.status).toBe('rejected');
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    for (const [i, r] of results.slice(1).entries()) {
      expect(r.status).toBe('fulfilled');
      const value = (r as PromiseFulfilledResult<{ status: number; body: Episode }>).value;
      expect(value.status).toBe(200);
      expect(value.body).toMatchObject({ status: 'ready', duration_s: i + 1 });
    }
    const replay = await b.finalize(scope, ids[3] ?? '', { status: 'ready', duration_s: 3 }, ctx, {
      key: `fin-${kind}-3`,
      rawBody: 'ready-3',
    });
    expect(replay.replayed).toBe(true);
    expect(replay.body).toEqual((results[3] as PromiseFulfilledResult<{ body: unknown }>).value.body);
    // The 409's key was never stored: it was answered with an error, not a response.
    const stored = await core()
      .deps.db.select()
      .from(idempotencyKey)
      .where(eq(idempotencyKey.key, `fin-${kind}-0`));
    expect(stored).toEqual([]);
  });
});
