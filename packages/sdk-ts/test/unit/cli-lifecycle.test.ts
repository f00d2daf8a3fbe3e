import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { RoboTrace } from '../../src/client.js';
import { TimeoutError } from '../../src/errors.js';
import { retryTiming } from '../../src/http/transport.js';
import { cli } from '../support/cli.js';
import { BASE, fakeFetch, json, KEY } from '../support/fake-fetch.js';

const loggedIn = { ROBOTRACE_API_KEY: KEY, ROBOTRACE_BASE_URL: BASE };
const A = '0b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69';
const B = '1b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69';
const C = '2b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69';
const deleted = (id: string, extra: Record<string, unknown> = {}) =>
  json(200, {
    episode_id: id,
    deleted: true,
    artifacts_deleted: 2,
    bytes_freed: 3 * 1024 * 1024,
    references_removed: { eval_results: 0, scenarios: 0 },
    ...extra,
  });

describe('robotrace episodes delete (fake server)', () => {
  it('prints one line per id and exits 1 when any was not deleted', async () => {
    const fetch = fakeFetch((request) => {
      if (request.url.includes(A)) return deleted(A);
      if (request.url.includes(B))
        return json(404, { error: 'Episode not found', code: 'not_found', details: null, request_id: 'r' });
      return json(409, {
        error: 'Episode is referenced',
        code: 'episode_referenced',
        details: { eval_runs: [{ id: 'run-1', name: 'nightly' }], scenarios: [{ id: 'sc-1', name: null }] },
        request_id: 'r2',
      });
    });
    const run = await cli(['episodes', 'delete', A, B, C], { env: loggedIn, fetch });
    expect(run.stdout.split('\n')).toEqual([
      `deleted ${A} (2 artifacts, 3.0 MB freed)`,
      `not found ${B}`,
      `referenced ${C} by eval run "nightly" (run-1), scenario sc-1 (pass --unlink-references to remove those links)`,
      '',
    ]);
    expect(run.stderr).toBe('robotrace: 2 of 3 not deleted\n');
    expect(run.code).toBe(1);
    expect(fetch.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE', 'DELETE']);
    expect(fetch.requests.every((r) => !r.url.includes('unlink_references'))).toBe(true);
  });

  it('--unlink-references asks the server to remove the links, and says what went', async () => {
    const fetch = fakeFetch(() =>
      deleted(A, { references_removed: { eval_results: 1, scenarios: 2 }, pending_storage: true }),
    );
    const run = await cli(['episodes', 'delete', A, '--unlink-references', '--yes'], {
      env: loggedIn,
      fetch,
    });
    expect(run.code).toBe(0);
    expect(fetch.requests[0]?.url).toBe(`${BASE}/api/episodes/${A}?unlink_references=true`);
    expect(run.stdout).toBe(
      `deleted ${A} (2 artifacts, 3.0 MB freed; unlinked 1 eval result, 2 scenarios) - storage still deleting the files, retried by the server\n`,
    );
  });

  it('a delete whose answer is lost is retried with the same Idempotency-Key', async () => {
    const sleep = vi.spyOn(retryTiming, 'sleep').mockResolvedValue();
    const fetch = fakeFetch((_request, index) =>
      index === 0
        ? json(503, { error: 'busy', code: 'unavailable', details: null, request_id: 'r' })
        : deleted(A),
    );
    const run = await cli(['episodes', 'delete', A], { env: loggedIn, fetch });
    sleep.mockRestore();
    expect(run.code).toBe(0);
    const keys = fetch.requests.map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it('an error other than 404 / 409 stops with one line', async () => {
    const fetch = fakeFetch(() =>
      json(401, { error: 'Invalid API key', code: 'unauthorized', details: null, request_id: 'r9' }),
    );
    const run = await cli(['episodes', 'delete', A, B], { env: loggedIn, fetch });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('robotrace: Invalid API key (request r9)\n');
    expect(fetch.requests).toHaveLength(1);
  });
});

const NPZ = Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(60, 7)]);
const VIDEO = Buffer.alloc(100, 1);
const exported = (id: string, artifacts: unknown[]) => ({
  id,
  episode_id: id,
  name: `ep ${id.slice(0, 4)}`,
  source: 'sim',
  status: 'ready',
  metadata: { seed_note: 'x' },
  otel: null,
  artifacts,
  created_at: '2026-11-24T10:00:00.000Z',
  portal_url: `${BASE}/portal/episodes/${id}`,
});

/** A server whose artifact URLs redirect to a storage host on another origin. */
function exportServer(lines: unknown[], { breakAfter }: { breakAfter?: number } = {}) {
  return fakeFetch((request) => {
    const url = new URL(request.url);
    if (url.pathname === '/api/episodes/export') {
      const text = lines.map((line) => `${JSON.stringify(line)}\n`).join('');
      if (breakAfter === undefined)
        return new Response(text, { status: 200, headers: { 'content-type': 'application/x-ndjson' } });
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(text.slice(0, breakAfter)));
          controller.error(new TypeError('terminated'));
        },
      });
      return new Response(body, { status: 200 });
    }
    if (url.host === 'storage.test') return new Response(url.pathname.endsWith('/video') ? VIDEO : NPZ);
    if (url.pathname.includes('/artifact/'))
      return new Response(null, {
        status: 302,
        headers: { location: `http://storage.test/signed${url.pathname}` },
      });
    return json(404, { error: 'no', code: 'not_found', details: null, request_id: 'r' });
  });
}

describe('robotrace episodes export (fake server)', () => {
  it('writes the lines to stdout with the filters as the query', async () => {
    const lines = [exported(A, []), exported(B, [])];
    const fetch = exportServer(lines);
    const run = await cli(
      [
        'episodes',
        'export',
        '--status',
        'failed',
        '--robot',
        'arm-2',
        '--created-after',
        '2026-11-01T00:00:00Z',
      ],
      { env: loggedIn, fetch },
    );
    expect(run.code).toBe(0);
    expect(
      run.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(lines);
    expect(run.stderr).toBe('exported 2 episodes\n');
    const query = new URL(fetch.requests[0]?.url ?? '').searchParams;
    expect(Object.fromEntries(query)).toEqual({
      status: 'failed',
      robot: 'arm-2',
      created_after: '2026-11-01T00:00:00Z',
    });
    expect(fetch.requests[0]?.headers.accept).toBe('application/x-ndjson');
  });

  it('--artifacts-dir downloads each file (the key only to the API origin) and adds local_path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'robotrace-export-'));
    const artifacts = [
      {
        kind: 'video',
        url: `${BASE}/api/episodes/${A}/artifact/video`,
        bytes: 100,
        content_type: 'video/mp4',
      },
      {
        kind: 'sensors',
        url: `${BASE}/api/episodes/${A}/artifact/sensors`,
        bytes: 64,
        content_type: 'application/octet-stream',
      },
    ];
    const fetch = exportServer([exported(A, artifacts)]);
    const out = join(dir, 'export.jsonl');
    const run = await cli(['episodes', 'export', '--out', out, '--artifacts-dir', join(dir, 'files')], {
      env: loggedIn,
      fetch,
    });
    expect(run.stderr).toBe(
      `exported 1 episode to ${out}, 2 artifacts downloaded to ${join(dir, 'files')}\n`,
    );
    expect(run.code).toBe(0);
    const [line] = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(line.artifacts.map((a: { local_path: string }) => a.local_path)).toEqual([
      join(dir, 'files', A, 'video.mp4'),
      join(dir, 'files', A, 'sensors.npz'),
    ]);
    expect(readFileSync(join(dir, 'files', A, 'video.mp4')).equals(VIDEO)).toBe(true);
    expect(readFileSync(join(dir, 'files', A, 'sensors.npz')).equals(NPZ)).toBe(true);
    expect(readdirSync(join(dir, 'files', A)).sort()).toEqual(['sensors.npz', 'video.mp4']);
    for (const request of fetch.requests) {
      const onApi = request.url.startsWith(BASE);
      expect(request.headers.authorization, request.url).toBe(onApi ? `Bearer ${KEY}` : undefined);
    }
  });

  it('an export cut off midway leaves no --out file behind and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'robotrace-export-'));
    const out = join(dir, 'export.jsonl');
    const lines = [exported(A, []), exported(B, []), exported(C, [])];
    const fetch = exportServer(lines, { breakAfter: JSON.stringify(lines[0]).length + 10 });
    const run = await cli(['episodes', 'export', '--out', out], { env: loggedIn, fetch });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^robotrace: .*terminated/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an episode id that is not a plain name is never used as a folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'robotrace-export-'));
    const evil = exported('../../escape', [
      { kind: 'video', url: `${BASE}/api/episodes/x/artifact/video`, bytes: 1, content_type: 'video/mp4' },
    ]);
    const run = await cli(['episodes', 'export', '--artifacts-dir', join(dir, 'files')], {
      env: loggedIn,
      fetch: exportServer([evil]),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refusing to write artifact video of episode \.\.\/\.\.\/escape/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    [['episodes', 'export', '--created-after', 'yesterday'], /--created-after.*Expected an ISO 8601 time/],
    [['episodes', 'export', '--status', 'gone'], /--status.*Expected one of recording, ready, failed/],
    [['episodes', 'delete'], /missing required argument 'id'/],
  ])('robotrace %s is a usage error before any request', async (argv, message) => {
    const fetch = fakeFetch(() => json(500, {}));
    const run = await cli(argv, { env: loggedIn, fetch });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(fetch.requests).toHaveLength(0);
  });
});

describe('robotrace episodes delete on a terminal', () => {
  const onTerminal = async (answer: string, fetch: ReturnType<typeof fakeFetch>) => {
    let stdout = '';
    let stderr = '';
    const stdin = Object.assign(Readable.from([`${answer}\n`]), { isTTY: true });
    // readline writes its prompt to a real stream.
    const terminal = new PassThrough().on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await runCli(['episodes', 'delete', A, B], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: terminal,
      stdin,
      env: loggedIn,
      fetch,
    });
    return { code, stdout, stderr };
  };

  it('asks first, and "n" deletes nothing', async () => {
    const fetch = fakeFetch((request) => deleted(request.url.includes(A) ? A : B));
    const run = await onTerminal('n', fetch);
    expect(run.stderr).toContain('Delete 2 episodes and their artifacts? This cannot be undone [y/N]');
    expect(run.stderr).toContain('robotrace: nothing deleted');
    expect(run.code).toBe(1);
    expect(fetch.requests).toHaveLength(0);
  });

  it('"y" deletes them', async () => {
    const fetch = fakeFetch((request) => deleted(request.url.includes(A) ? A : B));
    const run = await onTerminal('y', fetch);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(fetch.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE']);
  });
});

describe('RoboTrace.exportEpisodes', () => {
  it('an answer that stops sending fails with a TimeoutError after the lines that came', async () => {
    const first = `${JSON.stringify(exported(A, []))}\n`;
    const fetch = fakeFetch(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode(first)); // then nothing, and no end
            },
          }),
          { status: 200 },
        ),
    );
    const rt = new RoboTrace({ apiKey: KEY, baseUrl: BASE, fetch, env: {}, quiet: true, timeoutMs: 200 });
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const episode of rt.exportEpisodes()) seen.push(episode.id);
    })().catch((error: unknown) => error);
    expect(seen).toEqual([A]);
    expect(failure).toBeInstanceOf(TimeoutError);
    expect((failure as Error).message).toMatch(/export episodes: no bytes arrived for 200 ms/);
  });
});

describe('robotrace episodes delete|export --help', () => {
  it.each([[['episodes', 'delete']], [['episodes', 'export']]])(
    'robotrace %s --help exits 0 with usage',
    async (command) => {
      const run = await cli([...command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: robotrace episodes (delete|export)/);
      expect(run.stdout).toMatch(command[1] === 'delete' ? /--unlink-references/ : /--artifacts-dir <dir>/);
    },
  );
});
