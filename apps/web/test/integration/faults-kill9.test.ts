import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Episode } from '@robotrace/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allEpisodes,
  ensureSdkVenv,
  killServer,
  runPython,
  VENV_SETUP_MS,
} from '../../../../test/faults/support.js';
import { api } from '../../../../test/support/api.js';
import { freePort } from '../../../../test/support/postgres.js';
import { startServer, type TestServer } from '../../../../test/support/server.js';

/**
 * Fault: the server is killed with SIGKILL while ~200 Python SDK `log_episode` calls are in flight, and
 * restarted at once on the same data dir and port. Each call either completes or raises; after the SDK's
 * retries (Idempotency-Key on create and finalize, the whole file re-sent on an upload retry) there is
 * exactly one episode per call, finalized, with complete artifacts.
 */
const CALLS = 200;
const VIDEO = randomBytes(48 * 1024);
const SENSORS = randomBytes(8 * 1024);

interface Done {
  event: 'done';
  i: number;
  name: string;
  ok: boolean;
  episode_id?: string;
  status?: string;
  error?: string;
}

describe('fault: kill -9 of the server under SDK load (embedded PGlite)', () => {
  let server: TestServer;
  let files: string;

  beforeAll(async () => {
    ensureSdkVenv();
    files = mkdtempSync(join(tmpdir(), 'robotrace-faults-'));
    writeFileSync(join(files, 'video.mp4'), VIDEO);
    writeFileSync(join(files, 'sensors.bin'), SENSORS);
    // A fixed port: the SDK's base URL and the signed upload URLs must stay valid across the restart.
    server = await startServer({ env: { PORT: String(await freePort()) } });
  }, VENV_SETUP_MS);
  afterAll(async () => {
    await server?.stop();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it('every call completes once: one finalized episode per call, artifacts whole', async () => {
    const prefix = `kill9-${randomBytes(4).toString('hex')}`;
    const load = runPython('sdk_load.py', [
      '--base-url',
      server.baseUrl,
      '--api-key',
      server.apiKey,
      '--count',
      String(CALLS),
      '--prefix',
      prefix,
      '--files',
      files,
    ]);
    const done = () => load.events.filter((e): e is Done & Record<string, unknown> => e.event === 'done');
    // Kill once a first few calls finished: the rest are somewhere in create, upload or finalize.
    await load.until((events) => events.filter((e) => e.event === 'done').length >= 15, 90_000);
    killServer(server.dataDir);
    const beforeKill = done().length;
    await server.restart();
    const swept = /removed temp files of interrupted uploads files=(\d+)/.exec(server.output())?.[1];
    expect(await load.exited(150_000)).toBe(0);

    const results = done();
    expect(results).toHaveLength(CALLS);
    // The kill really landed mid-run: calls were still open when the server died.
    expect(beforeKill).toBeLessThan(CALLS);
    const raised = results.filter((r) => !r.ok);
    expect(raised.map((r) => `${r.name}: ${r.error}`)).toEqual([]);
    console.info(`kill -9 after ${beforeKill}/${CALLS} calls; temp files swept at restart: ${swept ?? 0}`);

    const episodes = await allEpisodes(server.baseUrl, server.apiKey, prefix);
    const byName = new Map<string, typeof episodes>();
    for (const e of episodes) byName.set(e.name ?? '', [...(byName.get(e.name ?? '') ?? []), e]);
    for (const r of results) {
      const mine = byName.get(r.name) ?? [];
      expect(
        mine.map((e) => e.id),
        `${r.name}: exactly one episode`,
      ).toEqual([r.episode_id]);
      const [e] = mine;
      expect(e?.status, r.name).toBe('ready');
      expect(e?.finalized_at, r.name).not.toBeNull();
      const sizes = Object.fromEntries((e?.artifacts ?? []).map((a) => [a.kind, [a.uploaded, a.size_bytes]]));
      expect(sizes, r.name).toEqual({ video: [true, VIDEO.length], sensors: [true, SENSORS.length] });
    }
    expect(episodes).toHaveLength(CALLS);
    expect(episodes.filter((e) => e.status === 'recording')).toEqual([]);

    // The temp files of the uploads the kill cut off were swept at the restart; none is left behind.
    expect(readdirSync(join(server.dataDir, 'artifacts', '.tmp'))).toEqual([]);

    // The stored bytes are the files' bytes (a sample: downloading all 400 adds nothing but time).
    for (const r of results.slice(0, 10)) {
      for (const [kind, bytes] of [
        ['video', VIDEO],
        ['sensors', SENSORS],
      ] as const) {
        const redirect = await fetch(`${server.baseUrl}/api/episodes/${r.episode_id}/artifact/${kind}`, {
          headers: { authorization: `Bearer ${server.apiKey}` },
          redirect: 'manual',
        });
        expect(redirect.status).toBe(302);
        const body = await fetch(new URL(redirect.headers.get('location') ?? '', server.baseUrl));
        expect(Buffer.from(await body.arrayBuffer()).equals(bytes), `${r.name} ${kind}`).toBe(true);
      }
    }
  }, 240_000);
});

interface Attempt {
  i: number;
  key: string;
  body: { source: 'sim'; name: string; request_uploads: ('video' | 'sensors')[] };
  /** The episode id of a 201 the client received before the kill; undefined when it got none. */
  acked?: string;
}

/**
 * Fault: kill -9 while group-commit batches are in flight. 48 clients create episodes (each with a fresh
 * Idempotency-Key, half with two upload slots) as fast as the server answers, so creates are written many to
 * a statement; the server is killed mid-run and restarted on the same data dir. Every create that was answered
 * 201 exists with all its slots, no episode is half-written, and retrying every request with its key yields
 * exactly one episode per key (the acknowledged ones answer with their first id).
 */
describe('fault: kill -9 with group-commit batches in flight (embedded PGlite)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ env: { PORT: String(await freePort()) } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('every acknowledged create survives whole; a retry with its key makes exactly one episode', async () => {
    const run = `gc${randomBytes(3).toString('hex')}`;
    const attempts: Attempt[] = [];
    let killed = false;
    const post = (a: Attempt) =>
      fetch(`${server.baseUrl}/api/ingest/episode`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': a.key,
        },
        body: JSON.stringify(a.body),
      });
    let next = 0;
    const worker = async () => {
      while (!killed) {
        const i = next++;
        const a: Attempt = {
          i,
          key: `${run}-key-${i}`,
          body: { source: 'sim', name: `${run}-${i}`, request_uploads: i % 2 ? ['video', 'sensors'] : [] },
        };
        attempts.push(a);
        try {
          const res = await post(a);
          const body = (await res.json()) as { episode_id?: string };
          if (res.status === 201) a.acked = body.episode_id;
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const workers = Array.from({ length: 48 }, worker);
    while (attempts.filter((a) => a.acked).length < 400) await new Promise((r) => setTimeout(r, 20));
    killServer(server.dataDir);
    killed = true;
    await Promise.all(workers);
    const acked = attempts.filter((a) => a.acked);
    const unanswered = attempts.filter((a) => !a.acked);
    // The kill landed with requests open (in a batch being written, or queued for one).
    expect(unanswered.length).toBeGreaterThan(0);
    await server.restart();

    const client = api(server.baseUrl, server.apiKey);
    for (const a of acked) {
      const r = await client.get<Episode>(`/api/episodes/${a.acked}`);
      expect(r.status, `${a.body.name} was acknowledged`).toBe(200);
      expect(r.body.artifacts.map((x) => x.kind).sort(), a.body.name).toEqual(
        [...a.body.request_uploads].sort(),
      );
    }
    for (const a of attempts) {
      const r = await post(a);
      const body = (await r.json()) as { episode_id: string };
      expect(r.status, a.body.name).toBe(201);
      if (a.acked) {
        expect(body.episode_id, a.body.name).toBe(a.acked);
        expect(r.headers.get('idempotent-replayed')).toBe('true');
      }
    }
    const episodes = await allEpisodes(server.baseUrl, server.apiKey, `${run}-`);
    const byName = new Map<string, number>();
    for (const e of episodes) byName.set(e.name ?? '', (byName.get(e.name ?? '') ?? 0) + 1);
    expect([...byName.values()].filter((n) => n !== 1)).toEqual([]);
    expect(episodes).toHaveLength(attempts.length);
    // Nothing half-written: every episode has exactly the slots its create asked for.
    for (const e of episodes) {
      const i = Number((e.name ?? '').split('-').at(-1));
      expect(e.artifacts.map((x) => x.kind).sort(), e.name ?? '').toEqual(i % 2 ? ['sensors', 'video'] : []);
    }
    console.info(`kill -9 after ${acked.length} acknowledged creates, ${unanswered.length} open`);
  }, 180_000);
});
