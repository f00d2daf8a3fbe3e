import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { requestIdOf } from '../../src/http/context.js';

const request = (headers: Record<string, string> = {}) => ({ headers }) as unknown as IncomingMessage;

describe('request ids', () => {
  it('are distinct across several refills of the random pool, in the documented shape', () => {
    // 512 ids a pool: 3000 ids span six refills; a pool reused or read at the wrong offset repeats ids.
    const ids = Array.from({ length: 3000 }, () => requestIdOf(request()));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^req_[A-Za-z0-9_-]{12}$/);
  });

  it("keep a caller's own safe X-Request-Id and replace an unsafe one", () => {
    expect(requestIdOf(request({ 'x-request-id': 'trace-0123456789' }))).toBe('trace-0123456789');
    expect(requestIdOf(request({ 'x-request-id': '<script>' }))).toMatch(/^req_/);
  });
});
