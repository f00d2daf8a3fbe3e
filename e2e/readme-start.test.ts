import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateEpisodeResponse, Episode } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, S, T, TRACEPARENT } from '../test/support/api.js';
import { freePort } from '../test/support/postgres.js';

// The app started exactly as the README starts it (`npm start`), on a fresh data dir, with the headless bootstrap.

const KEY = 'rt_readme_e2e_key_0123456789abcdef';
const baseEnv = (dataDir: string, port: number): NodeJS.ProcessEnv => ({
  ...process.env,
  PORT: String(port),
  ROBOTRACE_DATA_DIR: dataDir,
  ROBOTRACE_INIT_EMAIL: 'ops@example.com',
  ROBOTRACE_INIT_PASSWORD: 'a-long-password',
  ROBOTRACE_INIT_PROJECT: 'lab',
  ROBOTRACE_INIT_API_KEY: KEY,
  DATABASE_URL: '',
  ROBOTRACE_SECRET: '',
});

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

function npmStart(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn('npm', ['start', '--silent'], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not print its URL:\n${output}`)), 90_000);
    const onData = (b: Buffer) => {
      output += b.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, output: () => output, url: m[1] });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`npm start exited:\n${output}`));
    });
  });
}

async function stop(s: Started | undefined) {
  if (!s?.child.pid || s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  process.kill(-s.child.pid, 'SIGTERM');
  await exited;
}

/** Runs a command to completion (a start that must fail, the admin CLI). */
function run(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync('npm', ['--silent', ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

describe('npm start (README)', () => {
  let dataDir: string;
  let port: number;
  let app: Started | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'robotrace-readme-'));
    port = await freePort();
    app = await npmStart(baseEnv(dataDir, port));
  });

  afterAll(async () => {
    await stop(app);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the URL and how to get an API key, and answers health', async () => {
    expect(app?.url).toBe(`http://127.0.0.1:${port}`);
    expect(app?.output()).toMatch(/API key/);
    expect((await api(app?.url ?? '').get('/api/health')).body).toEqual({ status: 'ok' });
  });

  it('ingests with the bootstrap key over HTTP', async () => {
    const client = api(app?.url ?? '', KEY);
    const created = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      name: 'readme',
      otel: { traceparent: TRACEPARENT },
    });
    expect(created.status).toBe(201);
    await client.post(`/api/ingest/episode/${created.body.episode_id}/finalize`, { status: 'ready' });
    const got = await client.get<Episode>(`/api/episodes/${created.body.episode_id}`);
    expect(got.body.otel).toEqual({ trace_id: T, span_id: S, traceparent: TRACEPARENT });
  });

  it('refuses a second process on the same data dir, and the admin command says the server holds it', async () => {
    const second = run(['start'], { ...baseEnv(dataDir, await freePort()) });
    expect(second.code).not.toBe(0);
    expect(second.out).toMatch(/in use by another RoboTrace process/);
    const admin = run(['run', 'admin', '--', 'create-key', '--project', 'lab'], baseEnv(dataDir, port));
    expect(admin.code).toBe(2);
    expect(admin.out).toMatch(/in use by another RoboTrace process \(pid \d+\)/);
    // The running server is unharmed.
    expect((await api(app?.url ?? '').get('/api/health')).status).toBe(200);
  });

  it('after a stop: the admin prints a working key once, and a restart re-applies the bootstrap idempotently', async () => {
    await stop(app);
    const project = run(['run', 'admin', '--', 'create-project', 'field-tests'], baseEnv(dataDir, port));
    expect(project.out).toMatch(/created project "field-tests"/);
    const created = run(
      ['run', 'admin', '--', 'create-key', '--project', 'field-tests'],
      baseEnv(dataDir, port),
    );
    const key = /ROBOTRACE_API_KEY=(rt_\S+)/.exec(created.out)?.[1];
    expect(key).toBeTruthy();
    app = await npmStart(baseEnv(dataDir, port));
    const mine = api(app.url, key);
    expect((await mine.post('/api/ingest/episode', { source: 'real' })).status).toBe(201);
    // The bootstrap key still sees only its own project's episode.
    const lab = await api(app.url, KEY).get<{ data: unknown[] }>('/api/episodes');
    expect(lab.body.data).toHaveLength(1);
  });
});

describe('a bad configuration stops the start with one line naming the variable', () => {
  const cases: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ['PORT', { PORT: 'eighty' }, /PORT/],
    [
      'ROBOTRACE_INIT_API_KEY',
      { ROBOTRACE_INIT_API_KEY: 'sk_live_123' },
      /ROBOTRACE_INIT_API_KEY must be rt_/,
    ],
    [
      'ROBOTRACE_SECRET',
      { DATABASE_URL: 'postgresql://localhost/x' },
      /ROBOTRACE_SECRET is required with DATABASE_URL/,
    ],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x', ROBOTRACE_SECRET: 'x'.repeat(40) }, /DATABASE_URL/],
  ];
  for (const [name, env, message] of cases) {
    it(name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'robotrace-badcfg-'));
      const r = run(['start'], { ...baseEnv(dir, await freePort()), ...env });
      rmSync(dir, { recursive: true, force: true });
      expect(r.code).not.toBe(0);
      const lines = r.out.split('\n').filter((l) => l.startsWith('RoboTrace'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.out).not.toMatch(/\n\s+at /); // no stack trace
    });
  }
});
