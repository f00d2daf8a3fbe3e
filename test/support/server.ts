import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_API_KEY = 'rt_testkey_0123456789abcdefghijklmnop';
export const TEST_EMAIL = 'owner@example.com';
export const TEST_PASSWORD = 'correct-horse-battery-staple';

export interface TestServer {
  baseUrl: string;
  apiKey: string;
  dataDir: string;
  /** The server process's pid (for benchmarks that read its memory from /proc). */
  pid: () => number | undefined;
  /** Everything the server printed (stdout + stderr), for assertions about logs. */
  output: () => string;
  stop: () => Promise<void>;
  /** Stop and start again on the same data dir (optionally with changed env); baseUrl may change. */
  restart: (env?: Record<string, string>) => Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  dataDir?: string;
  keepDataDir?: boolean;
  /** Extra node flags (e.g. --cpu-prof for a benchmark profile). */
  nodeArgs?: string[];
}

/**
 * Starts the built server (`apps/web/dist/main.js`) on a free port with a fresh data dir and the headless
 * bootstrap (user, project `demo`, API key TEST_API_KEY). Resolves once it prints its URL.
 */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'robotrace-test-'));
  let env: Record<string, string | undefined> = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    ROBOTRACE_DATA_DIR: dataDir,
    ROBOTRACE_INIT_EMAIL: TEST_EMAIL,
    ROBOTRACE_INIT_PASSWORD: TEST_PASSWORD,
    ROBOTRACE_INIT_PROJECT: 'demo',
    ROBOTRACE_INIT_API_KEY: TEST_API_KEY,
    ROBOTRACE_LOG_LEVEL: 'info',
    // With DATABASE_URL an instance migrates only when asked; a test's fresh database needs it.
    ROBOTRACE_MIGRATE_ON_START: '1',
    ...options.env,
  };
  let output = '';
  let child: ChildProcess | undefined;
  const server: TestServer = {
    baseUrl: '',
    apiKey: env.ROBOTRACE_INIT_API_KEY ?? TEST_API_KEY,
    dataDir,
    pid: () => child?.pid,
    output: () => output,
    stop: async () => {
      await stopChild(child);
      child = undefined;
    },
    restart: async (changes) => {
      await stopChild(child);
      env = { ...env, ...changes };
      ({ child, baseUrl: server.baseUrl } = await launch(env, (s) => (output += s), options.nodeArgs));
    },
  };
  ({ child, baseUrl: server.baseUrl } = await launch(env, (s) => (output += s), options.nodeArgs));
  const originalStop = server.stop;
  server.stop = async () => {
    await originalStop();
    if (!options.keepDataDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return server;
}

async function launch(
  env: Record<string, string | undefined>,
  onOutput: (s: string) => void,
  nodeArgs: string[] = [],
): Promise<{ child: ChildProcess; baseUrl: string }> {
  const child = spawn(process.execPath, [...nodeArgs, 'apps/web/dist/main.js'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${seen}`)), 60_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      seen += text;
      onOutput(text);
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${seen}`));
    });
  });
  return { child, baseUrl };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
