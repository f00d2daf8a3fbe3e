import { mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalDiskStore } from '../../src/local-disk.js';

const SECRET = 's'.repeat(32);
const DAY_S = 86_400;
const PART = 5 * 1024 * 1024;

/** Every file of an upload (and its directory) last written `daysAgo` days ago. */
function age(root: string, uploadId: string, daysAgo: number, only?: (name: string) => boolean) {
  const dir = join(root, '.uploads', uploadId);
  const then = Date.now() / 1000 - daysAgo * DAY_S;
  for (const name of readdirSync(dir)) if (!only || only(name)) utimesSync(join(dir, name), then, then);
  utimesSync(dir, then, then);
}

// Local resumable uploads that a client never came back to complete are deleted after the configured age
// (ROBOTRACE_ABANDONED_UPLOAD_MAX_AGE_S), when a new upload starts; one still being written to is kept.
describe('LocalMultipart abandoned uploads', () => {
  it('deletes an upload nothing was written to for longer than the max age, keeps the others', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rt-store-abandoned-'));
    const store = new LocalDiskStore(root, SECRET, undefined, { abandonedUploadMaxAgeS: 2 * DAY_S });
    const m = store.multipart;
    const start = (key: string) => m.start(key, { contentType: 'video/mp4', partSizeBytes: PART });
    const abandoned = await start('p1/e1/video');
    await m.receivePart(abandoned, 1, Readable.from([Buffer.alloc(PART, 1)]), PART);
    const recent = await start('p1/e2/video');
    const resumed = await start('p1/e3/video');
    age(root, abandoned, 3);
    age(root, recent, 1);
    // Started long ago, but a part arrived just now: still in use.
    age(root, resumed, 3);
    await m.receivePart(resumed, 1, Readable.from([Buffer.alloc(PART, 2)]), PART);

    expect((await m.sweepAbandoned()).sort()).toEqual([abandoned]);
    expect(await m.listParts('p1/e1/video', abandoned)).toBeNull();
    expect(await m.listParts('p1/e2/video', recent)).toEqual([]);
    expect(await m.listParts('p1/e3/video', resumed)).toHaveLength(1);
    expect(readdirSync(join(root, '.uploads')).sort()).toEqual([recent, resumed].sort());
  });

  it('looks for abandoned uploads when an upload starts', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rt-store-abandoned-'));
    const old = await new LocalDiskStore(root, SECRET).multipart.start('p1/e1/video', {
      contentType: 'video/mp4',
      partSizeBytes: PART,
    });
    age(root, old, 8); // past the default 7 days
    // A server started later (a fresh store) sweeps on its first start of an upload.
    const store = new LocalDiskStore(root, SECRET);
    const fresh = await store.multipart.start('p1/e2/video', {
      contentType: 'video/mp4',
      partSizeBytes: PART,
    });
    expect(readdirSync(join(root, '.uploads'))).toEqual([fresh]);
  });
});
