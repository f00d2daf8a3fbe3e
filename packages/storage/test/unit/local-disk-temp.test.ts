import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalDiskStore } from '../../src/local-disk.js';

const SECRET = 's'.repeat(32);

// A killed server leaves the temp file of each upload it was writing (faults-kill9.test.ts). They live in
// `<root>/.tmp`, never next to artifacts, and the server removes the stale ones at start and hourly.
describe('LocalDiskStore temp files', () => {
  it('writes through <root>/.tmp and leaves nothing there, complete or not', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rt-store-tmp-'));
    const store = new LocalDiskStore(root, SECRET);
    expect(await store.write('p1/e1/video', Readable.from([Buffer.from('whole')]), 100, 'video/mp4')).toBe(5);
    const broken = new Readable({
      read() {
        this.push(Buffer.alloc(10));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.write('p1/e1/sensors', broken, 100, 'application/octet-stream')).rejects.toThrow();
    expect(readdirSync(join(root, '.tmp'))).toEqual([]);
    expect(readdirSync(join(root, 'p1/e1')).sort()).toEqual(['video', 'video.meta']);
  });

  it('removes temp files older than asked, keeps fresh ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rt-store-tmp-'));
    const store = new LocalDiskStore(root, SECRET);
    expect(await store.removeStalePartials(0)).toBe(0); // no .tmp yet
    await store.write('p1/e1/video', Readable.from([Buffer.from('x')]), 100, 'video/mp4');
    const now = Date.now();
    writeFileSync(join(root, '.tmp', 'old.part'), 'left by a crash');
    utimesSync(join(root, '.tmp', 'old.part'), (now - 7_200_000) / 1000, (now - 7_200_000) / 1000);
    writeFileSync(join(root, '.tmp', 'fresh.part'), 'being written');
    expect(await store.removeStalePartials(3_600_000, now)).toBe(1);
    expect(readdirSync(join(root, '.tmp'))).toEqual(['fresh.part']);
    expect(await store.removeStalePartials(-1, now + 1)).toBe(1);
    expect(readdirSync(join(root, '.tmp'))).toEqual([]);
    expect(await store.stat('p1/e1/video')).toEqual({ size: 1, contentType: 'video/mp4' });
  });
});
