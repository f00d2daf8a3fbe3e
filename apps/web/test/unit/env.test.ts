import { describe, expect, it } from 'vitest';
import { loadEnv, runtimeEnv } from '../../src/env.js';
import { configErrorOf } from './config-errors.js';

const fails = configErrorOf;

describe('configuration', () => {
  it('has working defaults for the embedded start', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({ PORT: 3000, ROBOTRACE_DATA_DIR: './.robotrace', ROBOTRACE_STORAGE: 'local' });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.ROBOTRACE_UPLOAD_URL_TTL_S).toBe(900);
  });

  it('names the variable and the bad value in one line', () => {
    const msg = fails({ PORT: '70000' });
    expect(msg).toMatch(/^invalid configuration: PORT .*\(got "70000"\)$/);
    expect(msg.split('\n')).toHaveLength(1);
  });

  it('never echoes secrets back', () => {
    expect(fails({ ROBOTRACE_SECRET: 'short-secret' })).not.toContain('short-secret');
    expect(fails({ ROBOTRACE_INIT_PROJECT: 'p', ROBOTRACE_INIT_API_KEY: 'rt_bad!' })).not.toContain(
      'rt_bad!',
    );
  });

  it('accepts an injected key of rt_ + 20–120 [A-Za-z0-9_] and refuses others', () => {
    const base = { ROBOTRACE_INIT_PROJECT: 'demo' };
    expect(
      loadEnv({ ...base, ROBOTRACE_INIT_API_KEY: `rt_${'a'.repeat(20)}` }).ROBOTRACE_INIT_API_KEY,
    ).toBeDefined();
    expect(fails({ ...base, ROBOTRACE_INIT_API_KEY: `rt_${'a'.repeat(19)}` })).toMatch(
      /ROBOTRACE_INIT_API_KEY/,
    );
    expect(fails({ ...base, ROBOTRACE_INIT_API_KEY: `rt_${'a'.repeat(121)}` })).toMatch(
      /ROBOTRACE_INIT_API_KEY/,
    );
    expect(fails({ ...base, ROBOTRACE_INIT_API_KEY: 'rt_abc-def-ghi-jkl-mno-pqr' })).toMatch(
      /ROBOTRACE_INIT_API_KEY/,
    );
  });

  it('requires the init user variables together and a secret with DATABASE_URL', () => {
    expect(fails({ ROBOTRACE_INIT_EMAIL: 'a@b.co' })).toMatch(/go together/);
    expect(fails({ DATABASE_URL: 'postgres://db/robotrace' })).toMatch(/ROBOTRACE_SECRET is required/);
    expect(loadEnv({ DATABASE_URL: 'postgres://db/x', ROBOTRACE_SECRET: 'y'.repeat(32) }).DATABASE_URL).toBe(
      'postgres://db/x',
    );
  });

  it('reads run-time values by name (never inlined at build time)', () => {
    expect(
      runtimeEnv('NEXT_PUBLIC_TRACE_URL_TEMPLATE', {
        NEXT_PUBLIC_TRACE_URL_TEMPLATE: 'https://x/{trace_id}',
      }),
    ).toBe('https://x/{trace_id}');
    expect(
      runtimeEnv('NEXT_PUBLIC_TRACE_URL_TEMPLATE', { NEXT_PUBLIC_TRACE_URL_TEMPLATE: '  ' }),
    ).toBeUndefined();
  });
});
