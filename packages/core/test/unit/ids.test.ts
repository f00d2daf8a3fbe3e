import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { episodeIdForKey, isUuid } from '../../src/ids.js';

describe('episodeIdForKey', () => {
  const project = '0b6f3c1e-2a4d-4f0e-9c1a-7d2e5b8f9a01';

  it('names one episode per project and key: the same pair always, another pair another id', () => {
    const id = episodeIdForKey(project, 'sdk-key-1');
    expect(episodeIdForKey(project, 'sdk-key-1')).toBe(id);
    expect(episodeIdForKey(project, 'sdk-key-2')).not.toBe(id);
    expect(episodeIdForKey(randomUUID(), 'sdk-key-1')).not.toBe(id);
    expect(isUuid(id)).toBe(true);
  });

  it('is a version-8 UUID, so it never equals the random (version-4) id of a create without a key', () => {
    const ids = Array.from({ length: 200 }, (_, i) => episodeIdForKey(project, `k${i}`));
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(200);
    expect(randomUUID()[14]).toBe('4');
  });
});
