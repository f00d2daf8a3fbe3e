import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverApi } from '../packages/sdk-ts/test/support/server-api.js';
import { startServer, type TestServer } from '../test/support/server.js';

// The README's `npx robotrace login` / `npx robotrace demo`, exactly as written, at the root of a fresh clone of
// this repository's HEAD after `npm install` — no dist built, no ROBOTRACE_* variables, a HOME of its own.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The newcomer's HOME is empty, but npm keeps using the machine's cache (so the install is offline-fast).
const NPM_CACHE = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();

let server: TestServer;
let work: string;
let clone: string;
let home: string;
let builtBeforeFirstRun: boolean;

beforeAll(async () => {
  server = await startServer();
  work = mkdtempSync(join(tmpdir(), 'robotrace-newcomer-'));
  clone = join(work, 'robotrace');
  home = join(work, 'home');
  execFileSync('git', ['clone', '--quiet', ROOT, clone]);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: clone,
    stdio: 'ignore',
    timeout: 240_000,
  });
  builtBeforeFirstRun = existsSync(join(clone, 'packages/sdk-ts/dist'));
}, 300_000);

afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** `npx robotrace …` in the clone's root as a newcomer's shell runs it. */
function npx(args: string[], input?: string) {
  const r = spawnSync('npx', ['robotrace', ...args], {
    cwd: clone,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: process.env.PATH, HOME: home, npm_config_cache: NPM_CACHE },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a newcomer at the root of a fresh clone', () => {
  it('npx robotrace --help works although the SDK was never built: the first run builds it', () => {
    expect(builtBeforeFirstRun).toBe(false);
    const help = npx(['--help']);
    expect(help.stderr).toContain('building the CLI');
    expect(help).toMatchObject({ code: 0 });
    expect(help.stdout).toMatch(/^Usage: robotrace/);
    expect(help.stdout).toMatch(/\n {2}demo \[options\]/);
    // Built once: the next run starts straight away.
    const version = npx(['--version']);
    expect(version).toMatchObject({ code: 0, stderr: '' });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('npx robotrace login, then npx robotrace demo, fills the portal', async () => {
    const login = npx(['login', '--api-key-stdin', '--base-url', server.baseUrl], `${server.apiKey}\n`);
    expect(login).toMatchObject({ code: 0, stderr: '' });
    const demo = npx(['demo']);
    expect(demo.code, demo.stderr).toBe(0);
    const count = Number(/Logged (\d+) demo episodes/.exec(demo.stdout)?.[1]);
    expect(count).toBeGreaterThanOrEqual(5);
    expect(demo.stdout).toContain(`${server.baseUrl}/portal/traces/`);
    const page = await serverApi(server.baseUrl, server.apiKey).list({ limit: '100' });
    expect(page.data).toHaveLength(count);
    expect(page.data.every((e) => e.artifacts.some((a) => a.kind === 'video' && a.uploaded))).toBe(true);
  });
});
