import { describe, expect, it } from 'vitest';
import { useApp } from '../support/app.js';
import { signIn } from '../support/portal-http.js';

// Regression: two sign-ups racing for one project name got a 500, after the loser's account was created. Now
// a sign-up makes its account and project together or neither: the loser sees the form again (409, or 400 when
// its name check already saw the winner's project) and has no account.
describe('two sign-ups racing for one project name', () => {
  const app = useApp({ env: { ROBOTRACE_ALLOW_SIGNUP: '1' } });

  const signUp = (email: string, project: string) =>
    fetch(`${app.current.baseUrl}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: app.current.baseUrl },
      body: new URLSearchParams({ name: email, email, password: 'long-enough-password', project }).toString(),
      redirect: 'manual',
    });

  const canSignIn = (email: string) =>
    signIn(app.current.baseUrl, email, 'long-enough-password').then(
      () => true,
      () => false,
    );

  it('one wins with its project; the other gets the form back, with no account left behind', async () => {
    for (let round = 0; round < 3; round++) {
      const project = `contested-${round}`;
      const emails = [`a${round}@example.com`, `b${round}@example.com`];
      const answers = await Promise.all(emails.map((email) => signUp(email, project)));
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 303)).toHaveLength(1);
      const loser = answers.findIndex((r) => r.status !== 303);
      expect([400, 409]).toContain(statuses[loser]);
      expect(await answers[loser]?.text()).toContain(`A project named “${project}” already exists.`);
      expect(await canSignIn(emails[1 - loser] ?? '')).toBe(true);
      expect(await canSignIn(emails[loser] ?? '')).toBe(false);
      // The loser's email is free again: signing up with another project name works.
      expect((await signUp(emails[loser] ?? '', `${project}-retry`)).status).toBe(303);
    }
  });
});
