import { describe, expect, it } from 'vitest';
import {
  API_KEY_FORMAT,
  apiKeyPrefix,
  generateApiKey,
  hasBadChecksum,
  hashApiKey,
  isGeneratedKeyChecksumValid,
} from '../../src/api-keys.js';

describe('API keys', () => {
  it('generates distinct well-formed keys with a checksum that catches a typo', () => {
    const keys = new Set(Array.from({ length: 200 }, generateApiKey));
    expect(keys.size).toBe(200);
    for (const k of keys) {
      expect(k).toMatch(API_KEY_FORMAT);
      expect(k).toMatch(/^rt_[A-Za-z0-9]{10}_[A-Za-z0-9]{38}$/);
      expect(isGeneratedKeyChecksumValid(k)).toBe(true);
      const typo = `${k.slice(0, 20)}${k[20] === 'a' ? 'b' : 'a'}${k.slice(21)}`;
      expect(isGeneratedKeyChecksumValid(typo)).toBe(false);
      expect(hasBadChecksum(typo)).toBe(true);
      expect(hasBadChecksum(k)).toBe(false);
    }
  });

  it('never calls a key of another shape mistyped (operators inject keys of any rt_ shape)', () => {
    for (const injected of ['rt_from_your_vault_0123456789', 'rt_testkey_0123456789abcdefghijklmnop'])
      expect(hasBadChecksum(injected)).toBe(false);
  });

  it('stores a SHA-256 digest and shows only a non-secret prefix', () => {
    const k = generateApiKey();
    expect(hashApiKey(k)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(k)).not.toContain(k.slice(3));
    expect(apiKeyPrefix(k)).toBe(`${k.slice(0, 10)}…`);
    expect(apiKeyPrefix(k).length).toBeLessThan(k.length / 3);
  });
});
