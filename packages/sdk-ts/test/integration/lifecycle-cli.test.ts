import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_CREDENTIALS, startMoto, type TestS3 } from '../../../../test/support/moto.js';
import { startPostgres, type TestPostgres } from '../../../../test/support/postgres.js';
import { startServer, type TestServer } from '../../../../test/support/server.js';
import { formatBytes } from '../../src/cli/format.js';
import { RoboTrace } from '../../src/client.js';
import { demoVideo } from '../../src/demo/video.js';
import { cli } from '../support/cli.js';
import { serverApi } from '../support/server-api.js';

/**
 * `robotrace episodes delete|export` against the started server, as a user runs them: on PGlite with local disk
 * and on PostgreSQL with S3 (moto). What a user would notice: the episode and its files are gone (from the API,
 * the download URL and the store itself), references are refused until unlinked, and an export carries every
 * field the API shows plus the files, byte for byte.
 */
const dir = mkdtempSync(join(tmpdir(), 'robotrace-lifecycle-cli-'));
const video = join(dir, 'rollout.mp4');
const sensors = join(dir, 'imu.npz');
writeFileSync(video, demoVideo());
// An NPZ is a zip: the export names the downloaded file by these first bytes (the store says octet-stream).
writeFileSync(sensors, Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(70_000, 9)]));
const BUCKET = 'robotrace-lifecycle';
const ROOT = resolve(import.meta.dirname, '../../../..');

/** The Python CLI (sdk/python, in the venv scripts/setup-python.sh makes), logged in through the environment. */
async function pythonCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const python = join(ROOT, '.cache/venv-sdk/bin/python');
  const childEnv = {
    PATH: process.env.PATH,
    HOME: mkdtempSync(join(tmpdir(), 'robotrace-py-home-')),
    NO_COLOR: '1',
  };
  const options = {
    env: { ...childEnv, ...env, PYTHONPATH: join(ROOT, 'sdk/python/src') },
    encoding: 'utf8' as const,
  };
  try {
    const { stdout, stderr } = await promisify(execFile)(python, ['-m', 'robotrace.cli', ...args], options);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
const SECRET = 'lifecycle-cli-secret-'.padEnd(64, 'x');

interface Setup {
  name: string;
  start: () => Promise<{
    server: TestServer;
    storedKeys: () => Promise<string[]>;
    stop: () => Promise<void>;
  }>;
}

/** Every file under a directory, as paths relative to it. */
function walk(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = join(prefix, entry.name);
    return entry.isDirectory() ? walk(root, path) : [path];
  });
}

const setups: Setup[] = [
  {
    name: 'PGlite + local disk',
    start: async () => {
      const server = await startServer();
      return { server, storedKeys: async () => walk(server.dataDir), stop: () => server.stop() };
    },
  },
  {
    name: 'PostgreSQL + S3 (moto)',
    start: async () => {
      const pg: TestPostgres = await startPostgres();
      const s3: TestS3 = await startMoto();
      await s3.createBucket(BUCKET);
      const server = await startServer({
        env: {
          DATABASE_URL: await pg.createDatabase(),
          ROBOTRACE_SECRET: SECRET,
          ROBOTRACE_STORAGE: 's3',
          S3_ENDPOINT: s3.endpoint,
          S3_BUCKET: BUCKET,
          S3_REGION: 'us-east-1',
          S3_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
          S3_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
          S3_FORCE_PATH_STYLE: '1',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      });
      const storedKeys = async () => {
        const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
        return (listed.Contents ?? []).map((object) => object.Key ?? '');
      };
      return {
        server,
        storedKeys,
        stop: async () => {
          await server.stop();
          await s3.stop();
          await pg.stop();
        },
      };
    },
  },
];

describe.each(setups)('robotrace episodes delete|export on $name', (setup) => {
  let server: TestServer;
  let storedKeys: () => Promise<string[]>;
  let stop: () => Promise<void>;
  let env: NodeJS.ProcessEnv;
  let rt: RoboTrace;
  let api: ReturnType<typeof serverApi>;

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${server.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, `${path}: ${await response.clone().text()}`).toBeLessThan(300);
    return (await response.json()) as Record<string, unknown>;
  };
  const status = async (path: string) =>
    (await fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${server.apiKey}` } }))
      .status;
  // Local disk keeps each file's content type beside it (`<key>.meta`): that counts as left behind too.
  const storedOf = async (id: string) => (await storedKeys()).filter((key) => key.includes(id));
  const filesOf = async (id: string) => (await storedOf(id)).filter((key) => !key.endsWith('.meta'));

  beforeAll(async () => {
    ({ server, storedKeys, stop } = await setup.start());
    env = { ROBOTRACE_API_KEY: server.apiKey, ROBOTRACE_BASE_URL: server.baseUrl };
    rt = new RoboTrace({ apiKey: server.apiKey, baseUrl: server.baseUrl, env: {}, quiet: true });
    api = serverApi(server.baseUrl, server.apiKey);
  }, 300_000);
  afterAll(() => stop?.());

  it('deletes an episode with its files; the second time it is not found', async () => {
    const episode = await rt.logEpisode({ name: 'wrong project', source: 'sim', video, sensors });
    expect(await filesOf(episode.id)).toHaveLength(2);

    const first = await cli(['episodes', 'delete', episode.id, '--yes'], { env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const bytes = readFileSync(video).length + readFileSync(sensors).length;
    expect(first.stdout).toBe(`deleted ${episode.id} (2 artifacts, ${formatBytes(bytes)} freed)\n`);

    expect(await status(`/api/episodes/${episode.id}`)).toBe(404);
    expect(await status(`/api/episodes/${episode.id}/artifact/video`)).toBe(404);
    expect(await storedOf(episode.id)).toEqual([]);
    expect((await api.list({ q: 'wrong project' })).data.map((e) => e.id)).not.toContain(episode.id);

    const again = await cli(['episodes', 'delete', episode.id], { env });
    expect(again.stdout).toBe(`not found ${episode.id}\n`);
    expect(again.code).toBe(1);
  });

  it('refuses an episode an eval run or a scenario uses, until asked to unlink them', async () => {
    const baseline = await rt.logEpisode({ name: 'baseline in use', source: 'real', video });
    const run = await post('/api/ingest/eval-run', {
      candidate_policy_version: 'cand-1',
      baseline_episode_ids: [baseline.id],
      name: 'nightly regression',
    });
    await post(`/api/ingest/eval-run/${run.eval_run_id}/result`, {
      baseline_episode_id: baseline.id,
      status: 'complete',
      metrics: { success: 1 },
    });
    const scenario = await post('/api/verify/promote', {
      baseline_episode_id: baseline.id,
      severity: 'critical',
      name: 'door jam',
    });

    const refused = await cli(['episodes', 'delete', baseline.id], { env });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`referenced ${baseline.id} by `);
    expect(refused.stdout).toContain(`eval run "nightly regression" (${run.eval_run_id})`);
    expect(refused.stdout).toContain(`scenario "door jam" (${scenario.scenario_id})`);
    expect(refused.stdout).toContain('(pass --unlink-references to remove those links)');
    expect((await api.episode(baseline.id)).id).toBe(baseline.id);
    expect(await filesOf(baseline.id)).toHaveLength(1);

    const unlinked = await cli(['episodes', 'delete', baseline.id, '--unlink-references'], { env });
    expect(unlinked.code).toBe(0);
    expect(unlinked.stdout).toMatch(
      new RegExp(
        `^deleted ${baseline.id} \\(1 artifact, .* freed; unlinked \\d+ eval results?, 1 scenario\\)\\n$`,
      ),
    );
    expect(await status(`/api/episodes/${baseline.id}`)).toBe(404);
    expect(await storedOf(baseline.id)).toEqual([]);
  });

  it('exports every field of the matching episodes and downloads their files byte for byte', async () => {
    const robot = `export-arm-${Date.now()}`;
    const logged = [
      await rt.logEpisode({
        name: 'export one',
        source: 'sim',
        robot,
        policyVersion: 'pi-0.3.1',
        envVersion: 'cell-4',
        gitSha: 'abc1234',
        seed: 7,
        fps: 15,
        durationS: 2.5,
        metadata: { task: 'pick', nested: { ok: true, list: [1, 'two'] } },
        video,
        sensors,
      }),
      await rt.logEpisode({
        name: 'export two',
        source: 'real',
        robot,
        status: 'failed',
        failureReason: 'gripper slipped',
        failureTimeS: 1.25,
        video,
      }),
    ];
    await rt.logEpisode({ name: 'another robot', source: 'sim', robot: `${robot}-other` });
    const out = join(dir, `export-${robot}.jsonl`);
    const files = join(dir, `files-${robot}`);

    const run = await cli(['episodes', 'export', '--robot', robot, '--out', out, '--artifacts-dir', files], {
      env,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`exported 2 episodes to ${out}, 3 artifacts downloaded to ${files}\n`);
    const lines = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown> & { artifacts: Record<string, unknown>[] });
    expect(lines.map((line) => line.id).sort()).toEqual(logged.map((e) => e.id).sort());
    for (const line of lines) {
      const { artifacts: shown, ...fields } = await api.episode(String(line.id));
      const { artifacts, ...exported } = line;
      expect(exported).toEqual(fields);
      const uploaded = shown.filter((a) => a.uploaded);
      expect(artifacts.map((a) => a.kind).sort()).toEqual(uploaded.map((a) => a.kind).sort());
      for (const artifact of artifacts) {
        const original = artifact.kind === 'video' ? video : sensors;
        const ext = artifact.kind === 'video' ? '.mp4' : '.npz';
        expect(artifact.local_path).toBe(join(files, String(line.id), `${artifact.kind}${ext}`));
        expect(String(artifact.url)).toMatch(/^http/);
        expect(artifact.bytes).toBe(readFileSync(original).length);
        expect(readFileSync(String(artifact.local_path)).equals(readFileSync(original))).toBe(true);
      }
    }

    const failedOnly = await cli(['episodes', 'export', '--robot', robot, '--status', 'failed'], { env });
    expect(failedOnly.code).toBe(0);
    const [failed, ...rest] = failedOnly.stdout.trimEnd().split('\n');
    expect(rest).toEqual([]);
    expect(JSON.parse(failed ?? '{}')).toMatchObject({
      id: logged[1]?.id,
      status: 'failed',
      failure_time_s: 1.25,
      metadata: { failure_reason: 'gripper slipped' },
    });
  });

  it('the Python CLI prints the same lines and exits the same', async () => {
    const robot = `parity-arm-${Date.now()}`;
    const unknown = '7b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69';
    const [forTs, forPython] = [
      await rt.logEpisode({ name: 'parity', source: 'sim', robot, video }),
      await rt.logEpisode({ name: 'parity', source: 'sim', robot, video }),
    ];
    const ids = (text: string, id: string) => text.replaceAll(id, '<id>');

    const ts = await cli(['episodes', 'delete', forTs.id, unknown], { env });
    const py = await pythonCli(['episodes', 'delete', forPython.id, unknown], env);
    expect(ts.code).toBe(1);
    expect(py.code).toBe(ts.code);
    expect(ids(py.stdout, forPython.id)).toBe(ids(ts.stdout, forTs.id));

    const kept = await rt.logEpisode({ name: 'parity kept', source: 'real', robot, metadata: { k: [1, 2] } });
    const tsExport = await cli(['episodes', 'export', '--robot', robot], { env });
    const pyExport = await pythonCli(['episodes', 'export', '--robot', robot], env);
    expect(tsExport.code).toBe(0);
    expect(pyExport).toEqual({ code: 0, stdout: pyExport.stdout, stderr: tsExport.stderr });
    const parsed = (text: string) =>
      text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown);
    expect(parsed(pyExport.stdout)).toEqual(parsed(tsExport.stdout));
    expect(parsed(tsExport.stdout)).toMatchObject([{ id: kept.id }]);
  });
});
