import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../../../../test/support/server.js';
import { demoVideo } from '../../src/demo/video.js';
import { PACKAGE_DIR } from '../support/built.js';
import { serverApi } from '../support/server-api.js';

const exec = promisify(execFile);
const ROOT = join(PACKAGE_DIR, '..', '..');
let server: TestServer;
let project: string;
let tarball: string;
let packedFiles: string[];

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
  writeFileSync(join(project, 'run.mp4'), demoVideo({ seconds: 1 }));
  await npm(project, 'install', tarball);
}, 240_000);
afterAll(() => server?.stop());

describe('the packed @robotrace/sdk', () => {
  it('ships dist with declarations, the CLI and the README, and nothing else', () => {
    expect(packedFiles).toContain('dist/index.js');
    expect(packedFiles).toContain('dist/index.d.ts');
    expect(packedFiles).toContain('dist/cli/main.js');
    expect(packedFiles).toContain('README.md');
    expect(packedFiles.every((f) => f.startsWith('dist/') || f === 'README.md' || f === 'package.json')).toBe(
      true,
    );
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
