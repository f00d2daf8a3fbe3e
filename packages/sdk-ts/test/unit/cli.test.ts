import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { BASE, episodeJson, fakeFetch, ingestFake, json, KEY } from '../support/fake-fetch.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';
const loggedIn = { ROBOTRACE_API_KEY: KEY, ROBOTRACE_BASE_URL: BASE };
const dir = mkdtempSync(join(tmpdir(), 'robotrace-cli-files-'));
const video = join(dir, 'run.mp4');
writeFileSync(video, 'not really a video');

/** One line on stderr, prefixed, and no stack trace. */
const expectOneLineError = (stderr: string, pattern: RegExp) => {
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^robotrace: /);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).toMatch(pattern);
};

describe('CLI --help', () => {
  it.each([
    [[]],
    [['login']],
    [['whoami']],
    [['log']],
    [['episodes']],
    [['episodes', 'list']],
    [['episodes', 'get']],
    [['trace']],
    [['demo']],
  ])('robotrace %s --help exits 0 with usage', async (command) => {
    const run = await cli([...command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: robotrace/);
    expect(run.stderr).toBe('');
  });
});

describe('CLI argument errors: one line, exit 2, no request', () => {
  it.each([
    [['log', '--source', 'moon'], /--source.*Expected one of real, sim, replay/],
    [['log', '--seed', '1.5'], /--seed.*Expected an integer/],
    [['log', '--fps', '-3'], /--fps.*Expected a number ≥ 0/],
    [['log', '--traceparent', 'abc'], /--traceparent.*Expected a W3C traceparent/],
    [['log', '--tracestate', 'a=b'], /--tracestate needs --traceparent/],
    [['log', '--failure-reason', 'x'], /need --status failed/],
    [['log', '--meta', 'novalue'], /--meta.*Expected key=value/],
    [
      ['log', '--video', '/nonexistent/run.mp4'],
      /video file \/nonexistent\/run\.mp4 cannot be read \(ENOENT\)/,
    ],
    [['episodes', 'list', '--trace', 'pick-and-place'], /--trace.*Expected a trace id, traceparent/],
    [['episodes', 'list', '--trace', '00000000000000000000000000000000'], /--trace.*Expected a trace id/],
    [['episodes', 'list', '--status', 'done'], /--status.*Expected one of recording, ready, failed/],
    [['episodes', 'list', '--limit', '0'], /--limit.*Expected 1 to 200/],
    [['episodes', 'get'], /missing required argument 'id'/],
    [['trace'], /missing required argument 'ref'/],
    [['trace', 'not-a-trace'], /Expected a trace id/],
    [['login', '--base-url', BASE], /pass --api-key <key> or --api-key-stdin/],
    [['login', '--api-key', KEY], /pass --base-url <url>/],
    [['login', '--api-key', 'sk_live_123', '--base-url', BASE], /does not look like a RoboTrace API key/],
    [['nonsense'], /unknown command 'nonsense'/],
    [['episodes', 'list', '--colour'], /unknown option '--colour'/],
  ])('robotrace %s', async (argv, message) => {
    const fetch = fakeFetch(() => json(500, {}));
    // login must not borrow ROBOTRACE_BASE_URL from the environment for these cases.
    const run = await cli(argv, { env: argv[0] === 'login' ? {} : loggedIn, fetch });
    expect(run.code).toBe(2);
    expectOneLineError(run.stderr, message);
    expect(run.stdout).toBe('');
    expect(fetch.requests).toHaveLength(0);
  });

  it('a malformed $TRACEPARENT is reported, not silently dropped', async () => {
    const run = await cli(['log'], { env: { ...loggedIn, TRACEPARENT: 'garbage' } });
    expect(run.code).toBe(2);
    expectOneLineError(run.stderr, /\$TRACEPARENT is not a W3C traceparent/);
  });
});

describe('CLI runtime errors: one line, exit 1', () => {
  it('not logged in', async () => {
    const run = await cli(['episodes', 'list']);
    expect(run.code).toBe(1);
    expectOneLineError(run.stderr, /not logged in: run `robotrace login`/);
  });

  it('an API error shows the server message and request id', async () => {
    const fetch = fakeFetch(() =>
      json(404, { error: 'Episode not found', code: 'not_found', request_id: 'req_42' }),
    );
    const run = await cli(['episodes', 'get', 'nope'], { env: loggedIn, fetch });
    expect(run.code).toBe(1);
    expectOneLineError(run.stderr, /^robotrace: Episode not found \(request req_42\)\n$/);
  });

  it('login with a refused key stores nothing', async () => {
    const fetch = fakeFetch(() =>
      json(401, { error: 'Invalid API key', code: 'unauthorized', request_id: 'r1' }),
    );
    const home = mkdtempSync(join(tmpdir(), 'robotrace-cli-'));
    const run = await cli(['login', '--api-key', KEY, '--base-url', BASE], { env: { HOME: home }, fetch });
    expect(run.code).toBe(1);
    expectOneLineError(run.stderr, /refused this key: Invalid API key/);
    expect(() => statSync(join(home, '.robotrace', 'credentials'))).toThrow();
  });
});

describe('CLI commands with a fake server', () => {
  it('login stores the key 0600 and whoami uses it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'robotrace-cli-'));
    const fetch = fakeFetch(() => json(200, { data: [], next_cursor: null }));
    const login = await cli(['login', '--api-key-stdin', '--base-url', `${BASE}/`], {
      env: { HOME: home },
      fetch,
      stdin: `${KEY}\n`,
    });
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(login.stdout).toContain(`Logged in to ${BASE} with key rt_unit_…`);
    const path = join(home, '.robotrace', 'credentials');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toContain(`api_key = "${KEY}"`);
    expect(fetch.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);

    const whoami = await cli(['whoami', '--json'], { env: { HOME: home }, fetch });
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toEqual({
      base_url: BASE,
      key: 'rt_unit_…',
      key_source: `${path} [default]`,
      authenticated: true,
    });
  });

  it('log sends the flags, metadata and $TRACEPARENT as the explicit trace context', async () => {
    const fetch = ingestFake();
    const traceparent = `00-${T}-${S}-01`;
    const run = await cli(
      [
        'log',
        '--name',
        'pick',
        '--source',
        'sim',
        '--video',
        video,
        '--seed',
        '3',
        '--meta',
        'task=pick',
        '--meta',
        'reward=0.9',
        '--json',
      ],
      { env: { ...loggedIn, TRACEPARENT: traceparent.toUpperCase() }, fetch },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: 'ep-1', status: 'ready' });
    expect(fetch.requests[0]?.json()).toEqual({
      source: 'sim',
      request_uploads: ['video'],
      name: 'pick',
      seed: 3,
      metadata: { task: 'pick', reward: 0.9, otel: { traceparent } },
    });
    expect(fetch.requests[1]?.body.toString()).toBe('not really a video');
  });

  it('episodes list --trace sends the parsed ids', async () => {
    const fetch = fakeFetch(() =>
      json(200, { data: [episodeJson('ep-9', 'ready', { name: 'r' })], next_cursor: null }),
    );
    const run = await cli(['episodes', 'list', '--trace', `00-${T.toUpperCase()}-${S}-01`], {
      env: loggedIn,
      fetch,
    });
    expect(run.code).toBe(0);
    const url = new URL(fetch.requests[0]?.url ?? '');
    expect(Object.fromEntries(url.searchParams)).toEqual({ trace_id: T, span_id: S, limit: '50' });
    expect(run.stdout).toContain(
      `ep-9  ready   sim     2026-11-24 10:00:00  r     ${BASE}/portal/episodes/ep-9`,
    );
  });

  it('trace <span id> finds the trace through the span, then lists it in time order', async () => {
    const otel = { trace_id: T, span_id: S, traceparent: `00-${T}-${S}-01` };
    const later = episodeJson('b', 'failed', { otel, created_at: '2026-11-24T10:00:05.000Z', name: 'child' });
    const earlier = episodeJson('a', 'ready', {
      otel,
      created_at: '2026-11-24T10:00:01.000Z',
      name: 'parent',
    });
    const fetch = fakeFetch((request) => {
      const query = new URL(request.url).searchParams;
      if (query.get('span_id')) return json(200, { data: [later], next_cursor: null });
      if (!query.get('cursor')) return json(200, { data: [later], next_cursor: 'page2' });
      return json(200, { data: [earlier], next_cursor: null });
    });
    const run = await cli(['trace', S, '--json'], { env: loggedIn, fetch });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      trace_id: string;
      portal_url: string;
      episodes: Array<{ id: string }>;
    };
    expect(out.trace_id).toBe(T);
    expect(out.portal_url).toBe(`${BASE}/portal/traces/${T}`);
    expect(out.episodes.map((e) => e.id)).toEqual(['a', 'b']);
    expect(fetch.requests.map((r) => Object.fromEntries(new URL(r.url).searchParams))).toEqual([
      { span_id: S, limit: '1' },
      { trace_id: T, limit: '200' },
      { trace_id: T, limit: '200', cursor: 'page2' },
    ]);
  });
});
