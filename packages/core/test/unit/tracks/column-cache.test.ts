import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ColumnCache } from '../../../src/tracks/column-cache.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
async function cache(maxBytes: number): Promise<ColumnCache> {
  const dir = mkdtempSync(join(tmpdir(), 'rt-colcache-'));
  dirs.push(dir);
  const c = new ColumnCache(join(dir, 'c'), maxBytes);
  await c.init();
  return c;
}
async function* bytes(n: number, fill: number) {
  yield new Uint8Array(n).fill(fill);
}

describe('ColumnCache', () => {
  it('keeps what was written, byte for byte, readable by range', async () => {
    const c = await cache(1000);
    expect(await c.write('a', 'm', bytes(10, 7))).toBe(10);
    const src = await c.open('a', 'm');
    expect(src?.size).toBe(10);
    expect([...((await src?.read(8, 5)) ?? [])]).toEqual([7, 7]);
    await src?.close();
  });

  it('past its byte budget drops the least recently used artifact first', async () => {
    const c = await cache(100);
    await c.write('a', 'm', bytes(60, 1));
    await c.write('b', 'm', bytes(30, 2));
    await (await c.open('a', 'm'))?.close(); // a is now the most recently used
    await c.write('c', 'm', bytes(30, 3)); // 120 > 100: b goes
    expect(await c.open('b', 'm')).toBeNull();
    const a = await c.open('a', 'm');
    const k = await c.open('c', 'm');
    expect(a).not.toBeNull();
    expect(k).not.toBeNull();
    await a?.close();
    await k?.close();
  });

  it('a NUL in a member name finds the same file as its stored U+FFFD form', async () => {
    const c = await cache(1000);
    await c.write('a', 'x\u0000y', bytes(3, 9));
    const src = await c.open('a', 'x\ufffdy');
    expect(src?.size).toBe(3);
    await src?.close();
  });

  it('concurrent rebuilds of one missing copy run the build once', async () => {
    const c = await cache(1000);
    let builds = 0;
    const build = async () => {
      builds++;
      await c.write('a', 'm', bytes(4, 1));
    };
    await Promise.all([c.rebuild('a', 'm', build), c.rebuild('a', 'm', build), c.rebuild('a', 'm', build)]);
    expect(builds).toBe(1);
    const src = await c.open('a', 'm');
    expect(src?.size).toBe(4);
    await src?.close();
  });

  it('a failed write leaves no file behind', async () => {
    const c = await cache(1000);
    async function* broken() {
      yield new Uint8Array(5);
      throw new Error('source went away');
    }
    await expect(c.write('a', 'm', broken())).rejects.toThrow('source went away');
    expect(await c.open('a', 'm')).toBeNull();
    expect(readdirSync(c.dir, { recursive: true }).filter((f) => String(f).endsWith('.part'))).toEqual([]);
  });
});
