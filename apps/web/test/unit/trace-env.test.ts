import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/env.js';
import { configErrorOf } from './config-errors.js';

/** ROBOTRACE_TRACE_SOURCE* (docs/CONFIGURATION.md): validated at start, one line naming the variable. */
describe('trace source configuration', () => {
  it('is off by default, with a 2 s timeout and a 60 s cache', () => {
    const env = loadEnv({});
    expect(env.ROBOTRACE_TRACE_SOURCE).toBeUndefined();
    expect(env.ROBOTRACE_TRACE_SOURCE_HEADERS).toEqual({});
    expect(env.ROBOTRACE_TRACE_SOURCE_TIMEOUT_MS).toBe(2000);
    expect(env.ROBOTRACE_TRACE_SOURCE_CACHE_TTL_S).toBe(60);
  });

  it('reads the three kinds of source and a JSON object of headers', () => {
    expect(loadEnv({ ROBOTRACE_TRACE_SOURCE: 'jaeger:http://jaeger:16686/' }).ROBOTRACE_TRACE_SOURCE).toEqual(
      {
        kind: 'jaeger',
        url: 'http://jaeger:16686',
      },
    );
    expect(
      loadEnv({ ROBOTRACE_TRACE_SOURCE: 'tempo:https://tempo.example' }).ROBOTRACE_TRACE_SOURCE?.kind,
    ).toBe('tempo');
    const template = 'otlp-json:https://apm.example/t/{trace_id}?from={start_unix_ms}';
    expect(loadEnv({ ROBOTRACE_TRACE_SOURCE: template }).ROBOTRACE_TRACE_SOURCE).toEqual({
      kind: 'otlp-json',
      url: 'https://apm.example/t/{trace_id}?from={start_unix_ms}',
    });
    expect(
      loadEnv({ ROBOTRACE_TRACE_SOURCE_HEADERS: '{"Authorization":"Bearer x","X-Scope-OrgID":"robots"}' })
        .ROBOTRACE_TRACE_SOURCE_HEADERS,
    ).toEqual({ Authorization: 'Bearer x', 'X-Scope-OrgID': 'robots' });
  });

  it.each([
    [{ ROBOTRACE_TRACE_SOURCE: 'zipkin:http://z' }, /ROBOTRACE_TRACE_SOURCE must be jaeger:/],
    [{ ROBOTRACE_TRACE_SOURCE: 'jaeger:ftp://j' }, /ROBOTRACE_TRACE_SOURCE only http/],
    [{ ROBOTRACE_TRACE_SOURCE: 'otlp-json:http://x/traces' }, /ROBOTRACE_TRACE_SOURCE .*\{trace_id\}/],
    [{ ROBOTRACE_TRACE_SOURCE_HEADERS: '["a"]' }, /ROBOTRACE_TRACE_SOURCE_HEADERS must be a JSON object/],
    [{ ROBOTRACE_TRACE_SOURCE_HEADERS: '{"a":1}' }, /ROBOTRACE_TRACE_SOURCE_HEADERS/],
    [{ ROBOTRACE_TRACE_SOURCE_HEADERS: '{"bad name":"v"}' }, /ROBOTRACE_TRACE_SOURCE_HEADERS/],
    [{ ROBOTRACE_TRACE_SOURCE_HEADERS: 'not json' }, /ROBOTRACE_TRACE_SOURCE_HEADERS/],
    [{ ROBOTRACE_TRACE_SOURCE_TIMEOUT_MS: '0' }, /ROBOTRACE_TRACE_SOURCE_TIMEOUT_MS/],
    [{ ROBOTRACE_TRACE_SOURCE_CACHE_TTL_S: 'soon' }, /ROBOTRACE_TRACE_SOURCE_CACHE_TTL_S/],
  ])('refuses %j in one line naming the variable', (env, message) => {
    const msg = configErrorOf(env);
    expect(msg).toMatch(message);
    expect(msg.split('\n')).toHaveLength(1);
  });

  it('never echoes the headers (API tokens) or a source URL back', () => {
    expect(
      configErrorOf({ ROBOTRACE_TRACE_SOURCE_HEADERS: '{"authorization": 7, "t": "tok-9f3"}' }),
    ).not.toContain('tok-9f3');
    expect(configErrorOf({ ROBOTRACE_TRACE_SOURCE: 'jaeger:http://user:pw-77@j' })).not.toContain('pw-77');
  });
});
