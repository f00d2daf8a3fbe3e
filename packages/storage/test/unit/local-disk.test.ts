import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalDiskStore, UploadTooLargeError } from '../../src/local-disk.js';
import { sign, verify } from '../../src/signing.js';

const SECRET = 's'.repeat(64);
const key = 'p1/e1/video';

function paramsOf(url: string) {
  const u = new URL(url);
  const p = u.searchParams;
  return {
    op: p.get('op') as 'put',
    expiresAtS: Number(p.get('exp')),
    contentType: p.get('ct') ?? '',
    signature: p.get('sig') ?? '',
  };
}

describe('signed URLs', () => {
  it('accepts the URL as issued and refuses a tampered or expired one', async () => {
    let now = 1_000;
    const store = new LocalDiskStore(mkdtempSync(join(tmpdir(), 'rt-store-')), SECRET, () => now);
    const { url } = await store.signUpload(key, {
      contentType: 'video/mp4',
      expiresInS: 900,
      baseUrl: 'http://h',
    });
    const p = paramsOf(url);
    expect(store.check({ key, ...p })).toBe('ok');
    expect(store.check({ key: 'p1/e2/video', ...p })).toBe('invalid');
    expect(store.check({ key, ...p, contentType: 'text/html' })).toBe('invalid');
    expect(store.check({ key, ...p, expiresAtS: p.expiresAtS + 1 })).toBe('invalid');
    expect(store.check({ key, ...p, op: 'get' as 'put' })).toBe('invalid');
    now += 901;
    expect(store.check({ key, ...p })).toBe('expired');
  });

  it('signs the same upload URL again for the same issue time, its lifetime counted from then', async () => {
    let now = 5_000;
    const store = new LocalDiskStore(mkdtempSync(join(tmpdir(), 'rt-store-')), SECRET, () => now);
    const o = {
      contentType: 'video/mp4',
      expiresInS: 900,
      baseUrl: 'http://h',
      issuedAt: new Date(4_990_500),
    };
    const first = await store.signUpload(key, o);
    now += 30;
    expect(await store.signUpload(key, o)).toEqual(first);
    expect(first.expiresAt.getTime()).toBe((4_990 + 900) * 1000);
    expect(store.check({ key, ...paramsOf(first.url) })).toBe('ok');
    now = 4_990 + 901;
    expect(store.check({ key, ...paramsOf(first.url) })).toBe('expired');
  });

  it('does not verify under another secret', () => {
    const input = { op: 'get' as const, key, expiresAtS: 10, contentType: 'video/mp4' };
    expect(verify('other'.repeat(10), input, sign(SECRET, input), 0)).toBe('invalid');
  });
});

describe('LocalDiskStore writes', () => {
  it('renames into place only when the body is complete', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rt-store-'));
    const store = new LocalDiskStore(root, SECRET);
    const broken = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.write(key, broken, 10_000, 'video/mp4')).rejects.toThrow(/went away/);
    expect(existsSync(join(root, 'p1/e1'))).toBe(false); // nothing placed, not even the sidecar
    expect(readdirSync(join(root, '.tmp'))).toEqual([]); // no temp file left either

    await expect(
      store.write(key, Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), 1000, 'video/mp4'),
    ).rejects.toBeInstanceOf(UploadTooLargeError);
    expect(existsSync(join(root, 'p1/e1'))).toBe(false);
    expect(readdirSync(join(root, '.tmp'))).toEqual([]);

    expect(await store.write(key, Readable.from([Buffer.from('hello')]), 1000, 'video/mp4')).toBe(5);
    expect(readFileSync(join(root, 'p1/e1/video'), 'utf8')).toBe('hello');
    expect(await store.stat(key)).toEqual({ size: 5, contentType: 'video/mp4' });
  });

  it('never maps a key outside its root (path traversal)', () => {
    const root = mkdtempSync(join(tmpdir(), 'rt-store-'));
    const store = new LocalDiskStore(root, SECRET);
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 1, maxLength: 5 }),
        (parts) => {
          const k = parts.join('/');
          let path: string | null = null;
          try {
            path = store.pathOf(k);
          } catch {
            return true; // refused
          }
          return path.startsWith(`${root}/`) && !path.includes('..');
        },
      ),
      { numRuns: 2000 },
    );
    for (const bad of ['../etc/passwd', 'a/../../b', '/abs', 'a//b', 'a/./b', 'a\\b', ''])
      expect(() => store.pathOf(bad)).toThrow();
  });
});
