import { execFile } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../../../../test/support/server.js';
import { demoVideo } from '../../src/demo/video.js';
import { parseTraceLookup } from '../../src/lookup.js';
import { BIN, buildPackage } from '../support/built.js';
import { serverApi } from '../support/server-api.js';
import { vectors } from '../support/vectors.js';

const run = promisify(execFile);
let server: TestServer;
let home: string;
const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

/** The built `robotrace` bin in a child process, with a temp HOME and no ROBOTRACE_* variables. */
async function robotrace(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home };
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  buildPackage();
  server = await startServer();
  home = mkdtempSync(join(tmpdir(), 'robotrace-cli-home-'));
});
afterAll(() => server?.stop());

describe('robotrace CLI end to end', () => {
  it('login → log → episodes list --trace → trace → episodes get', async () => {
    const login = await robotrace('login', '--api-key', server.apiKey, '--base-url', server.baseUrl);
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(statSync(join(home, '.robotrace', 'credentials')).mode & 0o777).toBe(0o600);

    const whoami = await robotrace('whoami', '--json');
    expect(JSON.parse(whoami.stdout)).toMatchObject({ base_url: server.baseUrl, authenticated: true });

    const video = join(home, 'run.mp4');
    writeFileSync(video, demoVideo({ seconds: 1 }));
    const traceparent = `00-${T}-${S}-01`;
    const logged = await robotrace(
      'log',
      '--name',
      'cli run',
      '--source',
      'sim',
      '--video',
      video,
      '--traceparent',
      traceparent,
      '--json',
    );
    expect(logged.stderr).toBe('');
    const episode = JSON.parse(logged.stdout) as { id: string; status: string; otel: unknown };
    expect(episode).toMatchObject({ status: 'ready', otel: { trace_id: T, span_id: S, traceparent } });

    const listed = await robotrace('episodes', 'list', '--trace', traceparent, '--json');
    expect((JSON.parse(listed.stdout) as { data: Array<{ id: string }> }).data.map((e) => e.id)).toContain(
      episode.id,
    );

    const honeycomb = `https://ui.honeycomb.io/acme/datasets/robots/trace?trace_id=${T}&span=${S}`;
    const trace = await robotrace('trace', honeycomb);
    expect(trace.code).toBe(0);
    expect(trace.stdout).toContain(`Trace ${T}`);
    expect(trace.stdout).toContain(`${server.baseUrl}/portal/episodes/${episode.id}`);

    const got = await robotrace('episodes', 'get', episode.id);
    expect(got.stdout).toMatch(new RegExp(`traceparent +${traceparent}`));
    expect(got.stdout).toMatch(/artifact\.video +uploaded/);
  });

  it('demo logs sim and real episodes, failures included, several under one trace', async () => {
    const demo = await robotrace('demo', '--json');
    expect(demo.code).toBe(0);
    const out = JSON.parse(demo.stdout) as {
      trace_id: string;
      episodes: Array<{ id: string; status: string; source: string }>;
    };
    expect(new Set(out.episodes.map((e) => e.source))).toEqual(new Set(['sim', 'real', 'replay']));
    expect(out.episodes.some((e) => e.status === 'failed')).toBe(true);

    const trace = JSON.parse((await robotrace('trace', out.trace_id, '--json')).stdout) as {
      episodes: Array<{ otel: { span_id: string } }>;
    };
    expect(trace.episodes.length).toBeGreaterThanOrEqual(3);
    expect(new Set(trace.episodes.map((e) => e.otel.span_id)).size).toBe(trace.episodes.length);
    const api = serverApi(server.baseUrl, server.apiKey);
    const downloaded = await api.artifact(out.episodes[0]?.id ?? '', 'video');
    expect(downloaded.bytes.subarray(4, 8).toString()).toBe('ftyp');
  });

  it('an expected failure is one line on stderr with a non-zero exit', async () => {
    const missing = await robotrace('episodes', 'get', '0b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^robotrace: .*not found.*\(request \S+\)\n$/i);
  });

  it('the CLI and the server read every lookup vector the same way', async () => {
    const api = serverApi(server.baseUrl, server.apiKey);
    const found = vectors.lookup.cases.filter((c) => c.expect !== null);
    expect(found.length).toBeGreaterThan(0);
    for (const c of found) {
      expect(parseTraceLookup(c.input)).toEqual(c.expect);
      const viaCli = await robotrace('episodes', 'list', '--trace', c.input, '--json');
      expect(viaCli.code).toBe(0);
      const viaServer = await api.list({ q: c.input });
      const ids = (page: { data: Array<{ id: string }> }) => page.data.map((e) => e.id);
      expect(ids(JSON.parse(viaCli.stdout)), c.input).toEqual(ids(viaServer));
      expect(ids(viaServer).length, c.input).toBeGreaterThan(0);
    }
  });
});
