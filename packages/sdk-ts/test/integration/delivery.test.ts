import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSdkVenv, SDK_PYTHON, VENV_SETUP_MS } from '../../../../test/faults/support.js';
import { startServer, TEST_API_KEY, type TestServer } from '../../../../test/support/server.js';
import { RoboTrace, type RoboTraceClientOptions } from '../../src/client.js';
import type { Episode } from '../../src/episode.js';
import { cli } from '../support/cli.js';
import { serverApi } from '../support/server-api.js';

/**
 * Background delivery against the started server (spec/SPOOL.md): a spool written while the server is down is
 * delivered exactly once when it comes up; a full or unwritable spool never rejects into the caller; a corrupt
 * record is parked; `robotrace sync` from the TypeScript and the Python CLI on one spool delivers each once.
 */
const dir = mkdtempSync(join(tmpdir(), 'robotrace-delivery-'));
const ROOT = new URL('../../../..', import.meta.url).pathname;

const videoBytes = (i: number, size = 4096) => {
  const buf = Buffer.alloc(size);
  for (let n = 0; n < size; n++) buf[n] = (i * 31 + n) % 256;
  buf.write(`video-${i}-`);
  return buf;
};

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const warnings: string[] = [];
const background = (baseUrl: string, spoolDir: string, options: RoboTraceClientOptions = {}) =>
  new RoboTrace({
    apiKey: TEST_API_KEY,
    baseUrl,
    env: {},
    quiet: true,
    delivery: 'background',
    spoolDir,
    logger: { warn: (m) => warnings.push(m) },
    ...options,
  });

async function byRobot(server: TestServer, robot: string) {
  return (await serverApi(server.baseUrl, server.apiKey).list({ robot, limit: '200' })).data;
}

describe('logged while the server is down', () => {
  let server: TestServer | undefined;
  afterAll(() => server?.stop());

  it('each of 100 episodes appears exactly once with its bytes once the server starts', async () => {
    const port = await freePort();
    const spool = join(dir, 'down');
    const robot = `ts-offline-${Date.now()}`;
    const client = background(`http://127.0.0.1:${port}`, spool, { maxRetries: 0 });
    const episodes: Episode[] = [];
    for (let i = 0; i < 100; i++) {
      const path = join(dir, `run-${i}.mp4`);
      writeFileSync(path, videoBytes(i));
      episodes.push(await client.logEpisode({ name: `offline ${i}`, robot, seed: i, video: path }));
      unlinkSync(path); // the loop cleans up at once; the spool holds its own link
    }
    expect(episodes.every((e) => e.id === '' && e.status === 'spooled')).toBe(true);
    expect(await client.flush(300)).toBe(false);

    server = await startServer({ env: { PORT: String(port) } });
    expect(await client.flush(120_000)).toBe(true);
    expect(await Promise.all(episodes.map((e) => e.delivered(0)))).toEqual(episodes.map(() => true));
    const stored = await byRobot(server, robot);
    expect(stored.map((e) => e.seed).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
    const api = serverApi(server.baseUrl, server.apiKey);
    for (const e of episodes) {
      const seed = Number((await api.episode(e.id)).seed);
      expect((await api.artifact(e.id, 'video')).bytes.equals(videoBytes(seed))).toBe(true);
    }
    expect(readdirSync(join(spool, 'v1', 'waiting'))).toEqual([]);
    await client.close();
  }, 180_000);
});

describe('faults the caller never sees', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.stop());

  it('a full spool refuses new episodes with one warning; a metadata-only one still goes', async () => {
    const video = join(dir, 'big.mp4');
    writeFileSync(video, videoBytes(1, 5000));
    const before = warnings.length;
    const client = new RoboTrace({
      apiKey: server.apiKey,
      baseUrl: server.baseUrl,
      env: { ROBOTRACE_SPOOL_MAX_BYTES: '1000' },
      quiet: true,
      delivery: 'background',
      spoolDir: join(dir, 'full'),
      logger: { warn: (m) => warnings.push(m) },
    });
    const refused = [];
    for (let i = 0; i < 3; i++) refused.push(await client.logEpisode({ name: 'too big', video }));
    const small = await client.logEpisode({ name: 'metadata only' });
    expect(await small.delivered(60_000)).toBe(true);
    for (const e of refused) {
      expect(await e.delivered(0)).toBe(false);
      expect(e.deliveryError).toMatch(/full/);
    }
    expect(warnings.slice(before).filter((w) => /full/.test(w))).toHaveLength(1);
    await client.close();
  });

  it('an unwritable spool never rejects: the episode says why, one warning', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'a file where the spool directory should be');
    const before = warnings.length;
    const client = background(server.baseUrl, join(blocker, 'spool'));
    const eps = [];
    for (let i = 0; i < 3; i++) eps.push(await client.logEpisode({ name: `unwritable ${i}` }));
    for (const e of eps) {
      expect(await e.delivered(0)).toBe(false);
      expect(e.deliveryError).toMatch(/cannot be written/);
    }
    expect(warnings.length - before).toBe(1);
    await client.close();
  });

  it('a corrupt record is parked with its reason and the next one is delivered', async () => {
    const spool = join(dir, 'corrupt');
    // A recent id: a record from 1970 would be parked for its age (expired) before anyone reads it.
    const badId = `${String(Date.now() - 1000).padStart(13, '0')}-00000000000000aa`;
    const bad = join(spool, 'v1', 'waiting', badId);
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'record.json'), '{"format": 1, "id": "truncated');
    const robot = `ts-corrupt-${Date.now()}`;
    const client = background(server.baseUrl, spool);
    const ep = await client.logEpisode({ name: 'after the corrupt one', robot });
    expect(await ep.delivered(60_000)).toBe(true);
    expect((await byRobot(server, robot)).map((e) => e.id)).toEqual([ep.id]);
    const state = JSON.parse(readFileSync(join(spool, 'v1', 'parked', badId, 'state.json'), 'utf8'));
    expect(state.parked_reason).toMatch(/^corrupt record: record\.json is not JSON/);
    const status = await cli(['spool', 'status', '--json', '--spool-dir', spool]);
    expect(JSON.parse(status.stdout)).toMatchObject({
      waiting: [],
      parked: [{ id: badId }],
      delivered: 1,
    });
    await client.close();
  });
});

describe('robotrace sync from both CLIs on one spool', () => {
  let server: TestServer;
  beforeAll(async () => {
    ensureSdkVenv();
    server = await startServer();
  }, VENV_SETUP_MS);
  afterAll(() => server?.stop());

  it('records spooled by Python and TypeScript, synced by both CLIs at once, are each delivered once', async () => {
    const spool = join(dir, 'shared');
    const robot = `both-${Date.now()}`;
    const down = `http://127.0.0.1:${await freePort()}`;
    // 10 spooled by the TypeScript SDK and 10 by the Python SDK, while their server is unreachable.
    const ts = background(down, spool, { maxRetries: 0, flushTimeoutMs: 0 });
    for (let i = 0; i < 10; i++) {
      const path = join(dir, `ts-${i}.mp4`);
      writeFileSync(path, videoBytes(i));
      await ts.logEpisode({ name: `ts ${i}`, robot, seed: i, video: path });
    }
    await ts.close();
    const py = await run(SDK_PYTHON, [
      '-c',
      `import sys, pathlib, robotrace as rt
c = rt.Client(api_key="${TEST_API_KEY}", base_url="${down}", delivery="background", spool_dir=sys.argv[1],
              max_retries=0, flush_timeout=0, verbose=False)
for i in range(10, 20):
    p = pathlib.Path(sys.argv[1]).parent / f"py-{i}.mp4"
    p.write_bytes(bytes([i]) * 4096)
    c.log_episode(name=f"py {i}", robot="${robot}", seed=i, video=p)
c.close()`,
      spool,
    ]);
    expect(py.code, py.stderr).toBe(0);
    expect(readdirSync(join(spool, 'v1', 'waiting'))).toHaveLength(20);

    const env = { ROBOTRACE_API_KEY: server.apiKey, ROBOTRACE_BASE_URL: server.baseUrl };
    const [tsSync, pySync] = await Promise.all([
      cli(['sync', '--spool-dir', spool], { env }),
      run(SDK_PYTHON, ['-m', 'robotrace.cli', 'sync', '--spool-dir', spool], env),
    ]);
    expect(tsSync.code, tsSync.stderr).toBe(0);
    expect(pySync.code, pySync.stderr).toBe(0);
    expect(tsSync.stdout).toMatch(/^delivered \d+, parked 0, waiting \d+\n$/);
    const stored = await byRobot(server, robot);
    expect(stored.map((e) => Number(e.seed)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    const api = serverApi(server.baseUrl, server.apiKey);
    for (const e of stored) {
      const seed = Number(e.seed);
      const expected = seed < 10 ? videoBytes(seed) : Buffer.alloc(4096, seed);
      expect((await api.artifact(e.id, 'video')).bytes.equals(expected)).toBe(true);
    }
    expect(readdirSync(join(spool, 'v1', 'waiting'))).toEqual([]);
  }, 120_000);

  it('parked records are retried or purged from either CLI; a retried one is delivered once', async () => {
    const spool = join(dir, 'parked');
    const robot = `parked-${Date.now()}`;
    const down = `http://127.0.0.1:${await freePort()}`;
    const ts = background(down, spool, { maxRetries: 0, flushTimeoutMs: 0 });
    for (let i = 0; i < 2; i++) {
      const path = join(dir, `parked-${i}.mp4`);
      writeFileSync(path, videoBytes(100 + i));
      await ts.logEpisode({ name: `parked ${i}`, robot, seed: i, video: path });
    }
    await ts.close();
    // Past a 3 s max age, the next sync parks both as expired (nothing delivered).
    await new Promise((r) => setTimeout(r, 3_500));
    const env = { ROBOTRACE_API_KEY: server.apiKey, ROBOTRACE_BASE_URL: server.baseUrl };
    const short = { ...env, ROBOTRACE_SPOOL_MAX_AGE_S: '3' };
    expect((await cli(['sync', '--spool-dir', spool], { env: short })).code).toBe(0);
    const parked = JSON.parse((await cli(['spool', 'status', '--json', '--spool-dir', spool])).stdout);
    expect(parked.parked.map((e: { reason: string }) => e.reason)).toEqual([
      expect.stringMatching(/^expired/),
      expect.stringMatching(/^expired/),
    ]);
    const [first, second] = parked.parked.map((e: { id: string }) => e.id) as string[];

    const pyRetry = await run(SDK_PYTHON, [
      '-m',
      'robotrace.cli',
      'spool',
      'retry',
      String(first),
      '--spool-dir',
      spool,
    ]);
    expect(pyRetry.stdout, pyRetry.stderr).toBe('retried 1\n');
    expect((await cli(['spool', 'retry', '--all', '--spool-dir', spool])).stdout).toBe('retried 1\n');
    expect(readdirSync(join(spool, 'v1', 'waiting'))).toEqual([first, second]);
    // A retried record's age counts from the retry: the same 3 s max age delivers it now.
    const synced = await cli(['sync', '--spool-dir', spool], { env: short });
    expect(synced.stdout, synced.stderr).toBe('delivered 2, parked 0, waiting 0\n');
    const stored = await byRobot(server, robot);
    expect(stored.map((e) => Number(e.seed)).sort()).toEqual([0, 1]);
    const api = serverApi(server.baseUrl, server.apiKey);
    for (const e of stored)
      expect((await api.artifact(e.id, 'video')).bytes.equals(videoBytes(100 + Number(e.seed)))).toBe(true);

    // Purge: a corrupt record, parked by the next sync, is deleted by the Python CLI; then it is gone.
    const bad = '0000000000002-00000000000000bb';
    mkdirSync(join(spool, 'v1', 'waiting', bad), { recursive: true });
    writeFileSync(join(spool, 'v1', 'waiting', bad, 'record.json'), '{"format": 1, "id": "trunc');
    expect((await cli(['sync', '--spool-dir', spool], { env })).code).toBe(0);
    expect(readdirSync(join(spool, 'v1', 'parked'))).toEqual([bad]);
    const purge = ['-m', 'robotrace.cli', 'spool', 'purge', bad, '--spool-dir', spool];
    expect((await run(SDK_PYTHON, purge)).stdout).toBe('purged 1\n');
    expect(readdirSync(join(spool, 'v1', 'parked'))).toEqual([]);
    const again = await run(SDK_PYTHON, purge);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no parked record/);
    const tsAgain = await cli(['spool', 'purge', bad, '--spool-dir', spool]);
    expect(tsAgain.code).not.toBe(0);
    expect(tsAgain.stderr).toMatch(/no parked record/);
    const neither = await cli(['spool', 'retry', '--spool-dir', spool]);
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toMatch(/give a parked record id or --all/);
    // Both records delivered exactly once: the retry did not make a second episode.
    expect(await byRobot(server, robot)).toHaveLength(2);
  }, 120_000);

  it('a script that ends with deliveries it cannot make exits on its own, leaving them spooled', async () => {
    const spool = join(dir, 'exit');
    const down = `http://127.0.0.1:${await freePort()}`;
    const script = `
      import { RoboTrace } from ${JSON.stringify(join(ROOT, 'packages/sdk-ts/src/index.ts'))};
      const rt = new RoboTrace({ apiKey: '${TEST_API_KEY}', baseUrl: '${down}', env: {}, quiet: true,
        delivery: 'background', spoolDir: ${JSON.stringify(spool)}, flushTimeoutMs: 500, maxRetries: 1,
        logger: { warn: () => {} } });
      for (let i = 0; i < 3; i++) await rt.logEpisode({ name: 'exit ' + i });
      console.log('logged');`;
    const child = await run(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {},
      60_000,
    );
    expect(child.code, child.stderr).toBe(0);
    expect(child.stdout).toBe('logged\n');
    expect(readdirSync(join(spool, 'v1', 'waiting'))).toHaveLength(3);
  }, 90_000);
});

/** Runs a process to its end; `hangGuardMs` only stops a hung child from hanging the suite. */
function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  hangGuardMs = 90_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const guard = setTimeout(() => child.kill('SIGKILL'), hangGuardMs);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}
