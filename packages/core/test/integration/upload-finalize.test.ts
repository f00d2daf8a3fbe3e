import { Readable } from 'node:stream';
import { CreateEpisodeRequest } from '@robotrace/contracts';
import { describe, expect, it } from 'vitest';
import { createEpisode, finalizeEpisode, getEpisode, storageKey } from '../../src/episodes.js';
import { ConflictError, NotFoundError } from '../../src/errors.js';
import { createProject } from '../../src/projects.js';
import { openUploadSlot, recordUpload } from '../../src/uploads.js';
import { coreOn, DATABASE_KINDS } from '../support/each-database.js';
import type { TempCore } from '../support/temp-core.js';

const ctx = { baseUrl: 'http://robotrace.test' };
const withVideo = CreateEpisodeRequest.parse({ source: 'sim', request_uploads: ['video'] });

async function episodeWithVideoSlot(c: TempCore, name: string) {
  const p = await createProject(c.deps, name);
  const scope = { projectId: p.id };
  const created = await createEpisode(c.deps, scope, withVideo, ctx);
  return { scope, id: created.episode_id, key: storageKey(scope, created.episode_id, 'video') };
}

/** What the local upload route does with a body: receive to a temp file, record (and place) under the lock. */
async function upload(c: TempCore, key: string, bytes: Buffer): Promise<void> {
  await openUploadSlot(c.deps, key);
  const received = await c.store.receive(Readable.from([bytes]), {
    maxBytes: 1 << 20,
    expectedBytes: bytes.length,
  });
  try {
    await recordUpload(c.deps, key, { size: received.size, contentType: 'video/mp4' }, () =>
      c.store.place(received, key, 'video/mp4'),
    );
  } finally {
    await c.store.discard(received);
  }
}

describe.each(DATABASE_KINDS)('uploads close when the episode is finalized (%s)', (kind) => {
  const core = coreOn(kind);

  it('an upload before finalize is counted in bytes_total', async () => {
    const c = core();
    const e = await episodeWithVideoSlot(c, `before-${kind}`);
    await upload(c, e.key, Buffer.alloc(1234, 1));
    const done = await finalizeEpisode(c.deps, e.scope, e.id, { status: 'ready' }, ctx);
    expect(done.bytes_total).toBe(1234);
    expect(done.artifacts).toMatchObject([{ kind: 'video', uploaded: true, size_bytes: 1234 }]);
  });

  it('after finalize the slot refuses with a 409 episode_finalized, and nothing is stored', async () => {
    const c = core();
    const e = await episodeWithVideoSlot(c, `after-${kind}`);
    await finalizeEpisode(c.deps, e.scope, e.id, { status: 'ready' }, ctx);
    const refused = await openUploadSlot(c.deps, e.key).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as ConflictError).details).toMatchObject({
      reason: 'episode_finalized',
      status: 'ready',
    });
    // Even past the early check (a PUT already streaming when the finalize landed), recording refuses.
    let placed = false;
    await expect(
      recordUpload(c.deps, e.key, { size: 5, contentType: 'video/mp4' }, async () => {
        placed = true;
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(placed).toBe(false);
    expect(await c.store.stat(e.key)).toBeNull();
    const episode = await getEpisode(c.deps, e.scope, e.id, ctx);
    expect(episode.bytes_total).toBe(0);
    expect(episode.artifacts).toMatchObject([{ kind: 'video', uploaded: false, size_bytes: null }]);
  });

  it('a key that is no slot is a 404', async () => {
    const c = core();
    const e = await episodeWithVideoSlot(c, `noslot-${kind}`);
    await expect(openUploadSlot(c.deps, e.key.replace('/video', '/sensors'))).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('an upload racing a finalize is either counted or refused, never stored beside bytes_total 0', async () => {
    const c = core();
    for (let i = 0; i < 8; i++) {
      const e = await episodeWithVideoSlot(c, `race-${i}-${kind}`);
      const [up] = await Promise.allSettled([
        upload(c, e.key, Buffer.alloc(100 + i, 2)),
        finalizeEpisode(c.deps, e.scope, e.id, { status: 'ready' }, ctx),
      ]);
      const episode = await getEpisode(c.deps, e.scope, e.id, ctx);
      const stored = await c.store.stat(e.key);
      if (up.status === 'fulfilled') {
        expect(episode.bytes_total).toBe(100 + i);
        expect(stored?.size).toBe(100 + i);
      } else {
        expect(up.reason).toBeInstanceOf(ConflictError);
        expect(episode.bytes_total).toBe(0);
        expect(stored).toBeNull();
      }
      expect(episode.artifacts[0]?.uploaded).toBe(up.status === 'fulfilled');
    }
  });
});
