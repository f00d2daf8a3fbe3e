import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalDiskStore, UploadLengthError, UploadTooLargeError } from '../../src/local-disk.js';

const SECRET = 's'.repeat(32);
const KEY = 'p1/e1/video';

function freshStore() {
  const root = mkdtempSync(join(tmpdir(), 'rt-store-recv-'));
  return { root, store: new LocalDiskStore(root, SECRET) };
}

// An upload is checked (limit, announced length) while still a temp file: a refused one never replaces the
// artifact already in place, and leaves no file behind.
describe('LocalDiskStore.receive', () => {
  it('refuses a body shorter or longer than announced before anything is in place', async () => {
    const { root, store } = freshStore();
    await store.write(KEY, Readable.from([Buffer.from('good video')]), 100, 'video/mp4');
    for (const expectedBytes of [50, 3]) {
      const err = await store
        .receive(Readable.from([Buffer.from('short')]), { maxBytes: 100, expectedBytes })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(UploadLengthError);
      expect(err).toMatchObject({ received: 5, expected: expectedBytes });
    }
    expect(readFileSync(join(root, KEY), 'utf8')).toBe('good video');
    expect(readdirSync(join(root, '.tmp'))).toEqual([]);
  });

  it('refuses a body over the limit and keeps nothing', async () => {
    const { root, store } = freshStore();
    await expect(
      store.receive(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), {
        maxBytes: 100,
        expectedBytes: null,
      }),
    ).rejects.toBeInstanceOf(UploadTooLargeError);
    expect(readdirSync(join(root, '.tmp'))).toEqual([]);
    expect(await store.stat(KEY)).toBeNull();
  });

  it('is not an artifact until placed, and a discarded upload leaves nothing', async () => {
    const { root, store } = freshStore();
    const kept = await store.receive(Readable.from([Buffer.from('abc')]), {
      maxBytes: 100,
      expectedBytes: 3,
    });
    expect(await store.stat(KEY)).toBeNull();
    await store.place(kept, KEY, 'video/mp4');
    expect(await store.stat(KEY)).toEqual({ size: 3, contentType: 'video/mp4' });
    const dropped = await store.receive(Readable.from([Buffer.from('xyz!')]), {
      maxBytes: 100,
      expectedBytes: 4,
    });
    await store.discard(dropped);
    expect(readdirSync(join(root, '.tmp'))).toEqual([]);
    expect(readFileSync(join(root, KEY), 'utf8')).toBe('abc');
  });
});
