import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { startApp, type TestApp } from '../support/app.js';

describe('portal sign-in is rate limited per client IP (brute force)', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startApp({ env: { ROBOTRACE_SIGNIN_ATTEMPTS_PER_MINUTE: '5' } });
  });
  afterAll(() => server?.stop());

  const signIn = (password: string, extra: Record<string, string> = {}) =>
    fetch(`${server.baseUrl}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.baseUrl, ...extra },
      body: JSON.stringify({ email: TEST_EMAIL, password }),
    });

  it('answers 429 after the budget, even with a forged X-Forwarded-For or client-IP header', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await signIn(`wrong-${i}`)).status);
    expect(statuses.every((s) => s === 401)).toBe(true);
    const forged = await signIn('wrong-again', {
      'x-forwarded-for': '203.0.113.7',
      'x-robotrace-client-ip': '203.0.113.8',
    });
    expect(forged.status).toBe(429);
    // Even the right password waits: the guesser cannot tell a hit from a miss.
    expect((await signIn(TEST_PASSWORD)).status).toBe(429);
  });
});
