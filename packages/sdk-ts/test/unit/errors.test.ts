import { describe, expect, it } from 'vitest';
import { RoboTrace } from '../../src/client.js';
import {
  APIError,
  AuthError,
  ConflictError,
  NotFoundError,
  RateLimitError,
  RobotraceError,
  ServerError,
  ValidationError,
} from '../../src/errors.js';
import { BASE, fakeFetch, json, KEY } from '../support/fake-fetch.js';

const getWith = async (response: () => Response) => {
  const fetch = fakeFetch(response);
  const rt = new RoboTrace({ apiKey: KEY, baseUrl: BASE, fetch, env: {}, quiet: true });
  return rt.getEpisode('ep-1').catch((error: unknown) => error);
};

const body = (message: string, code: string) => ({
  error: message,
  code,
  details: { field: 'x' },
  request_id: `req_${code}`,
});

describe('error mapping', () => {
  it.each([
    [400, ValidationError, 'validation_error'],
    [401, AuthError, 'unauthorized'],
    [404, NotFoundError, 'not_found'],
    [409, ConflictError, 'conflict'],
    [403, APIError, 'forbidden'],
  ] as const)('%i → %s with the server message, code, details and request id', async (status, cls, code) => {
    const error = await getWith(() => json(status, body(`the ${code} message`, code)));
    expect(error).toBeInstanceOf(cls);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(RobotraceError);
    expect(error).toMatchObject({
      status,
      message: `the ${code} message`,
      code,
      requestId: `req_${code}`,
      details: { field: 'x' },
      body: body(`the ${code} message`, code),
      name: cls.name,
    });
  });

  it('429 → RateLimitError with retryAfter, after the retries', async () => {
    const error = await getWith(() => json(429, body('slow down', 'rate_limited'), { 'retry-after': '0' }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfter: 0, message: 'slow down' });
  });

  it('5xx → ServerError', async () => {
    const error = await getWith(() =>
      json(502, body('upstream down', 'unavailable'), { 'retry-after': '0' }),
    );
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 502, message: 'upstream down' });
  });

  it('a body that is not JSON still gives a readable message', async () => {
    const error = await getWith(() => new Response('<html>Bad Gateway</html>', { status: 404 }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      message: 'HTTP 404',
      body: '<html>Bad Gateway</html>',
      code: undefined,
      requestId: undefined,
    });
  });

  it('a 2xx that is not a JSON object is an error, not a silent success', async () => {
    const error = await getWith(() => new Response('ok', { status: 200 }));
    expect(error).toBeInstanceOf(APIError);
    expect((error as Error).message).toMatch(/without a JSON object/);
  });
});
