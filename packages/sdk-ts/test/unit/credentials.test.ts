import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import {
  credentialsPath,
  parseCredentials,
  readCredentials,
  updateCredentials,
} from '../../src/credentials.js';
import { ConfigurationError } from '../../src/errors.js';

const tempHome = () => mkdtempSync(join(tmpdir(), 'robotrace-home-'));

describe('credentials file', () => {
  it('is written under ~/.robotrace with dir 0700 and file 0600, and read back', () => {
    const home = tempHome();
    const path = credentialsPath({ HOME: home });
    expect(path).toBe(join(home, '.robotrace', 'credentials'));
    updateCredentials(path, 'default', { api_key: 'rt_abc_secret', base_url: 'http://localhost:3000' });
    expect(statSync(join(home, '.robotrace')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toContain(
      '[default]\napi_key = "rt_abc_secret"\nbase_url = "http://localhost:3000"\n',
    );
    expect(readCredentials(path).get('default')?.get('api_key')).toBe('rt_abc_secret');
  });

  it('ROBOTRACE_HOME moves it', () => {
    expect(credentialsPath({ HOME: '/home/x', ROBOTRACE_HOME: '/etc/rt' })).toBe('/etc/rt/credentials');
  });

  it('an update keeps other profiles and keys, and escapes what needs escaping', () => {
    const path = credentialsPath({ HOME: tempHome() });
    updateCredentials(path, 'default', { api_key: 'rt_a_1', user_email: 'sam@example.com' });
    updateCredentials(path, 'staging', { api_key: 'rt_b_2', base_url: 'https://rt.example.com' });
    updateCredentials(path, 'default', { api_key: 'rt_a_3', client_id: 'say "hi"\\\n' });
    const profiles = readCredentials(path);
    expect(Object.fromEntries(profiles.get('default') ?? [])).toEqual({
      api_key: 'rt_a_3',
      user_email: 'sam@example.com',
      client_id: 'say "hi"\\\n',
    });
    expect(Object.fromEntries(profiles.get('staging') ?? [])).toEqual({
      api_key: 'rt_b_2',
      base_url: 'https://rt.example.com',
    });
  });

  it('reads what a Python TOML writer produces (comments, literal strings, spacing)', () => {
    const profiles = parseCredentials(
      '# written by robotrace-dev\n[default]\napi_key=\'rt_x_y\'  # key\n  base_url = "http://h:1"\nwritten_at = "2026-11-24T10:00:00Z"\n\n[ "other profile" ]\napi_key = "rt_\\u0041"\n',
    );
    expect(Object.fromEntries(profiles.get('default') ?? [])).toEqual({
      api_key: 'rt_x_y',
      base_url: 'http://h:1',
      written_at: '2026-11-24T10:00:00Z',
    });
    expect(profiles.get('other profile')?.get('api_key')).toBe('rt_A');
  });
});

describe('configuration precedence', () => {
  const withFile = () => {
    const home = tempHome();
    updateCredentials(credentialsPath({ HOME: home }), 'default', {
      api_key: 'rt_file_key',
      base_url: 'http://file:1/',
    });
    return home;
  };

  it('options beat environment, which beats the credentials file', () => {
    const HOME = withFile();
    expect(resolveConfig({ env: { HOME } })).toMatchObject({
      apiKey: 'rt_file_key',
      baseUrl: 'http://file:1',
    });
    const env = { HOME, ROBOTRACE_API_KEY: 'rt_env_key', ROBOTRACE_BASE_URL: 'http://env:2' };
    expect(resolveConfig({ env })).toMatchObject({
      apiKey: 'rt_env_key',
      baseUrl: 'http://env:2',
      apiKeySource: 'ROBOTRACE_API_KEY',
    });
    expect(resolveConfig({ env, apiKey: 'rt_opt_key', baseUrl: 'https://opt/prefix/' })).toMatchObject({
      apiKey: 'rt_opt_key',
      baseUrl: 'https://opt/prefix',
    });
  });

  it.each([
    [{ apiKey: 'rt_k', baseUrl: 'localhost:3000' }, /must start with http/],
    [{ apiKey: 'rt_k', baseUrl: 'not a url' }, /is not a URL/],
    [{ apiKey: 'sk_live_x', baseUrl: 'http://h' }, /does not look like a RoboTrace key/],
    [{ baseUrl: 'http://h' }, /no RoboTrace API key/],
    [{ apiKey: 'rt_k' }, /no RoboTrace server URL: set ROBOTRACE_BASE_URL/],
    [{ apiKey: 'rt_k', baseUrl: 'http://h', timeoutMs: 0 }, /timeoutMs must be a positive/],
  ])('rejects %o with a ConfigurationError', (options, message) => {
    const call = () => resolveConfig({ ...options, env: { HOME: tempHome() } });
    expect(call).toThrow(ConfigurationError);
    expect(call).toThrow(message);
  });

  it('reads the quiet and OTel switches from the environment', () => {
    const env = {
      ROBOTRACE_QUIET: 'true',
      ROBOTRACE_OTEL_RESPECT_SAMPLED: '1',
      ROBOTRACE_OTEL_LINK_SPAN: 'yes',
    };
    expect(resolveConfig({ apiKey: 'rt_k', baseUrl: 'http://h', env })).toMatchObject({
      quiet: true,
      respectSampled: true,
      linkSpan: true,
    });
    expect(
      resolveConfig({ apiKey: 'rt_k', baseUrl: 'http://h', env: { ROBOTRACE_QUIET: '0' } }),
    ).toMatchObject({
      quiet: false,
      respectSampled: false,
      linkSpan: false,
    });
  });

  it('an unreadable credentials file is a configuration error naming it', () => {
    const home = tempHome();
    const path = credentialsPath({ HOME: home });
    updateCredentials(path, 'default', { api_key: 'rt_k' });
    writeFileSync(join(home, '.robotrace', 'x'), '');
    expect(() =>
      resolveConfig({ env: { HOME: home, ROBOTRACE_HOME: join(home, '.robotrace', 'x') } }),
    ).toThrow(/cannot read .*x\/credentials/);
  });
});
