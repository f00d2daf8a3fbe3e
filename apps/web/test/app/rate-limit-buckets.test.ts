import { describe, expect, it } from 'vitest';
import { useApp } from '../support/app.js';

// Regression: a request refused by the project's budget still spent a token of the key's budget, so a key
// sharing a busy project ran dry on requests that were never served. A request takes from every bucket or none.
describe('rate limits per key and per project', () => {
  const OTHER_KEY = 'rt_second_key_of_demo_0123456789abc';
  const app = useApp({
    env: { ROBOTRACE_RATE_LIMIT_PER_MINUTE: '3', ROBOTRACE_PROJECT_RATE_LIMIT_PER_MINUTE: '4' },
  });

  it("a request the project refuses spends nothing of the key's budget", async () => {
    // Time stands still for the buckets (the composition root's clock), so nothing refills mid-test.
    const frozen = app.current.services.core.clock.now();
    app.current.services.core.clock = { now: () => frozen };
    // A second key of the same project spends the project's budget down to one token.
    await app.current.addProject('demo', OTHER_KEY);
    const other = app.current.client(OTHER_KEY);
    for (let i = 0; i < 3; i++) expect((await other.get('/api/episodes?limit=1')).status).toBe(200);

    const mine = app.current.client();
    expect((await mine.get('/api/episodes?limit=1')).status).toBe(200); // the project's last token
    const refused = await mine.get('/api/episodes?limit=1');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'rate_limited' });
    expect(String(refused.body.error)).toContain('for this project');

    // Had each refusal spent one of the key's three tokens, the fourth request would say "for this API key".
    for (let i = 0; i < 3; i++) {
      const again = await mine.get('/api/episodes?limit=1');
      expect(again.status).toBe(429);
      expect(String(again.body.error)).toContain('for this project');
    }
  });
});
