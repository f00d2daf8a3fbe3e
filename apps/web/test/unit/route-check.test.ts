import { describe, expect, it } from 'vitest';
import { responseViolation } from '../../../../test/support/route-check.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const error = (code: string) => JSON.stringify({ error: 'x', code, request_id: 'req_1' });

describe('responseViolation: the test-side check of a response against its route', () => {
  it("accepts a body that matches its status's schema, and the one error body for a declared error", () => {
    expect(responseViolation('GET', '/api/health', 200, JSON_TYPE, '{"status":"ok"}')).toBeNull();
    expect(responseViolation('GET', '/api/health', 503, JSON_TYPE, error('unavailable'))).toBeNull();
    expect(
      responseViolation('POST', '/api/ingest/episode', 415, JSON_TYPE, error('unsupported_media_type')),
    ).toBeNull();
    expect(responseViolation('HEAD', '/api/health', 200, JSON_TYPE, '')).toBeNull();
  });

  it('refuses a success body off its schema, naming the field', () => {
    expect(responseViolation('GET', '/api/health', 200, JSON_TYPE, '{"status":"fine"}')).toMatch(
      /health.*status/,
    );
    expect(responseViolation('GET', '/api/health', 200, 'text/plain', 'ok')).toMatch(/expected JSON/);
  });

  it('refuses a status the route does not declare, and an error without the error body', () => {
    expect(responseViolation('GET', '/api/health', 409, JSON_TYPE, error('conflict'))).toMatch(
      /does not declare 409/,
    );
    expect(
      responseViolation('GET', `/api/episodes/${crypto.randomUUID()}`, 404, JSON_TYPE, '{"message":"nope"}'),
    ).toMatch(/schema/);
  });

  it('checks only the JSON API: portal pages and Better Auth are not its business', () => {
    expect(responseViolation('GET', '/portal/episodes', 200, 'text/html', '<html>')).toBeNull();
    expect(responseViolation('POST', '/api/auth/sign-in/email', 200, JSON_TYPE, '{"any":1}')).toBeNull();
    expect(responseViolation('GET', '/api/nothing', 404, JSON_TYPE, error('not_found'))).toBeNull();
    expect(responseViolation('GET', '/api/nothing', 200, JSON_TYPE, '{}')).toMatch(/no route/);
  });
});
