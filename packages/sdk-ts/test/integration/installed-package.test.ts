import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../../../../test/support/server.js';
import { demoVideo } from '../../src/demo/video.js';
import { parseTraceLookup } from '../../src/lookup.js';
import { PACKAGE_DIR } from '../support/built.js';
import { serverApi } from '../support/server-api.js';
import { vectors } from '../support/vectors.js';

const exec = promisify(execFile);
const ROOT = join(PACKAGE_DIR, '..', '..');
let server: TestServer;
let project: string;
let tarball: string;
let packedFiles: string[];
let cliHome: string;
const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

const npm = (cwd: string, ...args: string[]) =>
  exec('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd });
const node = (script: string, ...args: string[]) =>
  exec(process.execPath, [script, ...args], {
    cwd: project,
    env: {
      PATH: process.env.PATH,
      HOME: project,
      ROBOTRACE_API_KEY: server.apiKey,
      ROBOTRACE_BASE_URL: server.baseUrl,
    },
  });

beforeAll(async () => {
  server = await startServer();
  const out = mkdtempSync(join(tmpdir(), 'robotrace-pack-'));
  // `npm pack` runs the package's prepack build, exactly as a publish would.
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', out], { cwd: PACKAGE_DIR });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  tarball = join(out, info?.filename ?? '');
  packedFiles = info?.files.map((f) => f.path) ?? [];
  project = mkdtempSync(join(tmpdir(), 'robotrace-consumer-'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  writeFileSync(join(project, 'run.mp4'), demoVideo());
  await npm(project, 'install', tarball);
  cliHome = mkdtempSync(join(tmpdir(), 'robotrace-cli-home-'));
}, 240_000);

/** The `robotrace` command installed from the tarball, in a child process with a temp HOME and no ROBOTRACE_* variables. */
async function robotrace(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: cliHome };
  try {
    const { stdout, stderr } = await exec(join(project, 'node_modules', '.bin', 'robotrace'), args, { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

afterAll(() => server?.stop());

describe('the packed @robotrace/sdk', () => {
  it('ships dist with declarations, the CLI, the demo clips and the README, and nothing else', () => {
    expect(packedFiles).toContain('dist/index.js');
    expect(packedFiles).toContain('dist/index.d.ts');
    expect(packedFiles).toContain('dist/cli/main.js');
    expect(packedFiles).toContain('fixtures/demo/pick-place.mp4');
    expect(packedFiles).toContain('README.md');
    const shipped = (f: string) =>
      f.startsWith('dist/') ||
      /^fixtures\/demo\/[\w-]+\.mp4$/.test(f) ||
      f === 'README.md' ||
      f === 'package.json';
    expect(packedFiles.filter((f) => !shipped(f))).toEqual([]);
  });

  it('installs without @opentelemetry/api and logs an episode without a trace block', async () => {
    writeFileSync(
      join(project, 'log.mjs'),
      `import { RoboTrace } from '@robotrace/sdk';
let otel = true;
try { await import('@opentelemetry/api'); } catch { otel = false; }
const episode = await new RoboTrace().logEpisode({ name: 'from the tarball', source: 'sim', video: 'run.mp4' });
console.log(JSON.stringify({ id: episode.id, status: episode.status, otel }));
`,
    );
    const { stdout } = await node('log.mjs');
    const result = JSON.parse(stdout) as { id: string; status: string; otel: boolean };
    expect(result).toMatchObject({ status: 'ready', otel: false });
    const stored = await serverApi(server.baseUrl, server.apiKey).episode(result.id);
    expect(stored.otel).toBeNull();
    expect(stored.artifacts.find((a) => a.kind === 'video')?.uploaded).toBe(true);
  });

  it('type-checks in a strict NodeNext TypeScript project', async () => {
    writeFileSync(
      join(project, 'typed.ts'),
      `import { type Episode, RoboTrace, RobotraceError, type OtelBlock } from '@robotrace/sdk';
const rt = new RoboTrace({ otel: { respectSampled: true } });
const episode: Episode = await rt.logEpisode({ source: 'sim', seed: 1, metadata: { task: 'pick' } });
const block: OtelBlock | undefined = episode.otel;
export const ok: boolean = block === undefined || episode instanceof RobotraceError;
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      // No DOM library: the declarations must stand on @types/node alone, as in a Node project.
      '--lib',
      'es2023',
    ];
    args.push('--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node', 'typed.ts');
    await expect(exec(process.execPath, [tsc, ...args], { cwd: project })).resolves.toBeDefined();
  });

  it('puts the robotrace command on the path of the installing project', async () => {
    const { stdout } = await exec(join(project, 'node_modules', '.bin', 'robotrace'), ['--version'], {
      cwd: project,
    });
    const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string };
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('with @opentelemetry/api installed, an episode logged in a span carries it', async () => {
    await npm(
      project,
      'install',
      '@opentelemetry/api@^1.9.0',
      '@opentelemetry/sdk-trace-base@^2.0.0',
      '@opentelemetry/context-async-hooks@^2.0.0',
    );
    writeFileSync(
      join(project, 'traced.mjs'),
      `import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { RoboTrace } from '@robotrace/sdk';
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const tracer = new BasicTracerProvider().getTracer('consumer');
await tracer.startActiveSpan('rollout', async (span) => {
  const episode = await new RoboTrace().logEpisode({ name: 'traced', source: 'sim', video: 'run.mp4' });
  const { traceId, spanId } = span.spanContext();
  span.end();
  console.log(JSON.stringify({ id: episode.id, traceId, spanId }));
});
`,
    );
    const { stdout } = await node('traced.mjs');
    const result = JSON.parse(stdout) as { id: string; traceId: string; spanId: string };
    const stored = await serverApi(server.baseUrl, server.apiKey).episode(result.id);
    expect(stored.otel).toEqual({
      trace_id: result.traceId,
      span_id: result.spanId,
      traceparent: `00-${result.traceId}-${result.spanId}-01`,
    });
  });
});

describe('the installed robotrace CLI, end to end', () => {
  it('login → log → episodes list --trace → trace → episodes get', async () => {
    const login = await robotrace('login', '--api-key', server.apiKey, '--base-url', server.baseUrl);
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(statSync(join(cliHome, '.robotrace', 'credentials')).mode & 0o777).toBe(0o600);

    const whoami = await robotrace('whoami', '--json');
    expect(JSON.parse(whoami.stdout)).toMatchObject({ base_url: server.baseUrl, authenticated: true });

    const video = join(cliHome, 'run.mp4');
    writeFileSync(video, demoVideo());
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
