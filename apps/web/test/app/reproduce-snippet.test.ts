import { execFileSync } from 'node:child_process';
import type { Episode } from '@robotrace/contracts';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../src/portal/components.js';
import { reproduceSnippet } from '../../src/portal/episode-page.js';

/** Runs a script in a real bash and returns what it printed. */
const bash = (script: string) => execFileSync('bash', ['-c', script], { encoding: 'utf8' });

const HOSTILE = [
  "it's",
  'a b',
  '$(touch /tmp/pwned)',
  '`id`',
  '"; echo injected; "',
  "'; echo injected; '",
  'line\nnext',
  '\\back\\slash',
  '*',
  '~',
  '-n',
  '',
  '🦾 ü',
];

describe('shellQuote', () => {
  it('hands bash back exactly the value, whatever it holds', () => {
    for (const value of HOSTILE)
      expect(bash(`printf '%s' ${shellQuote(value)}`), JSON.stringify(value)).toBe(value);
  });

  it('leaves plain values (a sha, a version, a path) unquoted', () => {
    for (const value of ['a1b2c3d', 'pi-0.3.1', 'ur5e/02', 'k=v']) expect(shellQuote(value)).toBe(value);
  });
});

function episode(overrides: Partial<Episode>): Episode {
  return {
    id: '9b2f4c1e-0000-4000-8000-000000000001',
    episode_id: '9b2f4c1e-0000-4000-8000-000000000001',
    name: 'pick',
    source: 'real',
    status: 'failed',
    robot: 'ur5e-02',
    policy_version: 'pi-0.3.1',
    env_version: 'kitchen-v7',
    git_sha: 'a1b2c3d',
    seed: 42,
    fps: 30,
    duration_s: 1,
    failure_time_s: null,
    bytes_total: null,
    metadata: {},
    otel: null,
    artifacts: [],
    created_at: '2026-01-01T00:00:00.000Z',
    finalized_at: null,
    portal_url: 'http://localhost/portal/episodes/x',
    ...overrides,
  };
}

/** The snippet run in bash with git and npx replaced by functions that print the arguments they got. */
function runSnippet(e: Episode): string[] {
  const stubs = `git() { printf 'git|%s\\n' "$@"; }\nnpx() { printf 'npx|%s\\n' "$@"; }\n`;
  return bash(`${stubs}${reproduceSnippet(e)}`)
    .split('\n')
    .filter(Boolean);
}

describe('the reproduce snippet', () => {
  it('checks out the sha and logs the re-run with every fact, each one argument', () => {
    const lines = runSnippet(episode({}));
    expect(lines).toEqual([
      'git|checkout',
      'git|a1b2c3d',
      'npx|robotrace',
      'npx|log',
      'npx|--name',
      'npx|pick (repro)',
      'npx|--source',
      'npx|real',
      'npx|--robot',
      'npx|ur5e-02',
      'npx|--policy-version',
      'npx|pi-0.3.1',
      'npx|--env-version',
      'npx|kitchen-v7',
      'npx|--git-sha',
      'npx|a1b2c3d',
      'npx|--seed',
      'npx|42',
      'npx|--meta',
      'npx|reproduces=9b2f4c1e-0000-4000-8000-000000000001',
    ]);
  });

  it('passes hostile names, robots and versions through as data, never as commands', () => {
    // Values with a line break print as several lines (checked on their own below).
    for (const value of HOSTILE.filter((v) => v !== '' && !v.includes('\n'))) {
      const lines = runSnippet(
        episode({ name: value, robot: value, policy_version: value, env_version: value, git_sha: value }),
      );
      const args = lines.map((l) => l.replace(/^(git|npx)\|/, ''));
      expect(
        lines.every((l) => /^(git|npx)\|/.test(l)),
        JSON.stringify({ value, lines }),
      ).toBe(true);
      // Multi-line values print as several lines; rejoin them to compare.
      const joined = args.join('\n');
      expect(joined, JSON.stringify(value)).toContain(`--name\n${value} (repro)`);
      expect(joined).toContain(`--robot\n${value}\n`);
      expect(joined).toContain(`--git-sha\n${value}\n`);
      expect(joined).toContain(`checkout\n${value}`);
    }
  });

  it('a line break in the name cannot end the comment line and run the rest as a command', () => {
    const marker = `/tmp/robotrace-snippet-${process.pid}-${Date.now()}`;
    // The trailing `#` comments out the rest of the old comment line, so an unfixed snippet really runs `touch`.
    for (const name of [
      `pick\ntouch ${marker} #`,
      `pick\r\ntouch ${marker} #`,
      `pick\u2028touch ${marker} #`,
    ]) {
      runSnippet(episode({ name }));
      expect(bash(`test -e ${marker} && echo ran || echo safe`).trim(), JSON.stringify(name)).toBe('safe');
      expect(reproduceSnippet(episode({ name })).split('\n')[0]).toContain('touch');
    }
  });
});
