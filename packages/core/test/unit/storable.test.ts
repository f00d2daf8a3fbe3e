import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { storableJson, storableText } from '../../src/storable.js';

// Found by scripts/fuzz.sh (schemathesis): a NUL or an unpaired surrogate anywhere in a create, a finalize or
// a list filter made PostgreSQL refuse the statement, and the request failed with a 500.
/** Independent of the implementation: UTF-8 round-trips a string exactly when it is well-formed UTF-16. */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s;

describe('storable text', () => {
  it('replaces NUL and unpaired surrogates by U+FFFD, and nothing else', () => {
    expect(storableText('a\u0000b')).toEqual({ value: 'a\ufffdb', replaced: 1 });
    expect(storableText('\ud83e')).toEqual({ value: '\ufffd', replaced: 1 });
    expect(storableText('x\udc00y\ud800')).toEqual({ value: 'x\ufffdy\ufffd', replaced: 2 });
    expect(storableText('robot 🦾 arm')).toEqual({ value: 'robot 🦾 arm', replaced: 0 });
    expect(storableText('\ud83e\udd3e\u0000')).toEqual({ value: '\ud83e\udd3e\ufffd', replaced: 1 });
  });

  it('walks keys and values of JSON, keeps `__proto__` a plain key, copies only when it must', () => {
    const clean = { a: [1, 'two', { b: null }] };
    expect(storableJson(clean).value).toBe(clean);
    const dirty = JSON.parse('{"__proto__": {"k\\u0000": ["\\ud800", 1.5, true]}, "n": null}');
    const { value, replaced } = storableJson(dirty);
    expect(replaced).toBe(2);
    expect(Object.keys(value)).toEqual(['__proto__', 'n']);
    expect(JSON.stringify(value)).toBe('{"__proto__":{"k\ufffd":["\ufffd",1.5,true]},"n":null}');
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('always yields well-formed text without NUL, of the same length in UTF-16 units', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const { value } = storableText(s);
        expect(value).toHaveLength(s.length);
        expect(value.includes('\u0000')).toBe(false);
        expect(wellFormed(value)).toBe(true);
        if (wellFormed(s) && !s.includes('\u0000')) expect(value).toBe(s);
      }),
    );
  });
});
