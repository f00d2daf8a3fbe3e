import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The vectors check themselves, independently of either SDK: every case follows from the stated rules, so a
// typo in the file cannot make both SDKs agree on a wrong answer.
interface Case {
  name: string;
  call: string;
  answers: Array<number | string | { status: number }>;
  max_retries?: number;
  expect: { attempts: number; error: string | null };
}

const spec = JSON.parse(readFileSync(new URL('./sdk-behaviour-vectors.json', import.meta.url), 'utf8')) as {
  defaults: { max_retries: number };
  errors: { tree: Record<string, string | null>; status_cases: Array<{ status: number; class: string }> };
  retry: {
    retried_statuses: number[];
    retried_status_range: [number, number];
    retried_failures: string[];
    calls: string[];
    cases: Case[];
  };
  backoff: {
    base_s: number;
    cap_s: number;
    cases: Array<{ failed_attempts: number; random: number; expect_s: number }>;
  };
};

const retried = (answer: Case['answers'][number]) => {
  if (typeof answer === 'string') return spec.retry.retried_failures.includes(answer);
  const status = typeof answer === 'number' ? answer : answer.status;
  const [low, high] = spec.retry.retried_status_range;
  return spec.retry.retried_statuses.includes(status) || (status >= low && status <= high);
};

describe('sdk-behaviour-vectors.json is consistent with its own rules', () => {
  it('names only classes of the tree, whose parents are in the tree', () => {
    const classes = Object.keys(spec.errors.tree);
    for (const parent of Object.values(spec.errors.tree))
      if (parent !== null) expect(classes).toContain(parent);
    for (const c of spec.errors.status_cases) expect(classes).toContain(c.class);
    for (const c of spec.retry.cases) if (c.expect.error) expect(classes).toContain(c.expect.error);
  });

  it.each(spec.retry.cases.map((c) => [c.name, c] as const))(
    '%s: attempts follow from the answers',
    (_name, c) => {
      expect(spec.retry.calls).toContain(c.call);
      const allowed = (c.max_retries ?? spec.defaults.max_retries) + 1;
      // Attempts go on while answers are retryable and attempts remain; past the scripted answers, success.
      let attempts = 0;
      let failedOn: Case['answers'][number] | undefined;
      for (const answer of c.answers) {
        attempts++;
        if (!retried(answer) || attempts === allowed) {
          failedOn = answer;
          break;
        }
      }
      if (failedOn === undefined) attempts++;
      expect(attempts).toBe(c.expect.attempts);
      expect(failedOn === undefined).toBe(c.expect.error === null);
    },
  );

  it('backoff cases are full jitter under the capped exponential ceiling', () => {
    for (const c of spec.backoff.cases) {
      const ceiling = Math.min(spec.backoff.cap_s, spec.backoff.base_s * 2 ** (c.failed_attempts - 1));
      expect(c.expect_s).toBeCloseTo(c.random * ceiling, 9);
    }
  });
});
