import { describe, expect, it } from 'vitest';
import { WindowCache } from '../../../src/tracks/window-cache.js';

describe('WindowCache', () => {
  it('answers what was set, by key', () => {
    const c = new WindowCache(100);
    c.set('a', '{"a":1}');
    expect(c.get('a')).toBe('{"a":1}');
    expect(c.get('b')).toBeUndefined();
  });

  it('stays within its size: the least recently used entry goes first', () => {
    const c = new WindowCache(30, 10);
    c.set('a', 'a'.repeat(10));
    c.set('b', 'b'.repeat(10));
    c.set('c', 'c'.repeat(10));
    expect(c.get('a')).toBeDefined(); // a is now the most recently used
    c.set('d', 'd'.repeat(10));
    expect(c.get('b')).toBeUndefined();
    expect([c.get('a'), c.get('c'), c.get('d')].every((v) => v !== undefined)).toBe(true);
    expect(c.size).toBe(30);
  });

  it('never keeps an entry over its per-entry bound, and replacing a key does not double count it', () => {
    const c = new WindowCache(100, 10);
    c.set('big', 'x'.repeat(11));
    expect(c.get('big')).toBeUndefined();
    c.set('k', 'x'.repeat(8));
    c.set('k', 'y'.repeat(9));
    expect(c.get('k')).toBe('y'.repeat(9));
    expect(c.size).toBe(9);
  });
});
