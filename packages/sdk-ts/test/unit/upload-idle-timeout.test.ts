import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RoboTrace } from '../../src/client.js';
import { TimeoutError } from '../../src/errors.js';
import { KEY } from '../support/fake-fetch.js';

// The upload timeout is an idle timeout (spec/SDK_BEHAVIOUR.md): a real local HTTP server receives the file
// slowly for longer than the timeout in total but never stalls → success; one that stops reading → failure.
// Large enough to outlast the loopback socket buffers (a few MiB), so the client really waits on the server.
const SIZE = 64 * 1024 * 1024;
const IDLE_MS = 2_000;
// The slow server pauses this long after every MiB: 64 pauses = 3.2 s in total, well past IDLE_MS, while at
// most a few MiB of buffered bytes drain in a fraction of IDLE_MS between two chunks the client hands over.
const PAUSE_MS = 50;
const MIB = 1024 * 1024;

interface Received {
  bytes: number;
  pauses: number;
  firstByteAt: number;
  lastByteAt: number;
  /** The status the episode was finalized with. */
  finalized?: string;
}

let dir: string;
let video: string;
let server: Server | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rt-idle-'));
  video = join(dir, 'long.mp4');
  writeFileSync(video, Buffer.alloc(SIZE, 1));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A tiny RoboTrace: create and finalize answer at once; `receive` decides how the PUT body is read. */
async function startServer(receive: (req: IncomingMessage, res: ServerResponse, got: Received) => void) {
  const got: Received = { bytes: 0, pauses: 0, firstByteAt: 0, lastByteAt: 0 };
  const http = createServer((req, res) => {
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'POST' && req.url === '/api/ingest/episode') {
      req.resume();
      req.on('end', () =>
        answer(201, {
          episode_id: 'ep-1',
          status: 'recording',
          storage: 'local',
          upload_urls: [
            { kind: 'video', url: `${base}/upload/ep-1/video`, expires_at: '2030-01-01T00:00:00Z' },
          ],
          portal_url: `${base}/portal/episodes/ep-1`,
          warnings: [],
        }),
      );
      return;
    }
    if (req.method === 'PUT') {
      req.on('data', (chunk: Buffer) => {
        const before = got.bytes;
        got.bytes += chunk.length;
        got.firstByteAt ||= performance.now();
        got.lastByteAt = performance.now();
        if (Math.floor(before / MIB) !== Math.floor(got.bytes / MIB)) receive(req, res, got);
      });
      req.on('end', () => answer(200, {}));
      return;
    }
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      got.finalized = (JSON.parse(Buffer.concat(body).toString()) as { status: string }).status;
      answer(200, { id: 'ep-1', status: got.finalized });
    });
  });
  server = http;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const rt = new RoboTrace({
    apiKey: KEY,
    baseUrl,
    env: {},
    quiet: true,
    uploadTimeoutMs: IDLE_MS,
    maxRetries: 0,
  });
  return { rt, got };
}

describe('upload idle timeout', () => {
  it('lets a slow upload that never stalls run longer than the timeout, and succeed', async () => {
    const { rt, got } = await startServer((req, _res, counts) => {
      counts.pauses++;
      req.pause();
      setTimeout(() => req.resume(), PAUSE_MS);
    });
    const episode = await rt.logEpisode({ source: 'sim', video });
    expect(episode.status).toBe('ready');
    expect(episode.bytesUploaded).toBe(SIZE);
    expect(got.bytes).toBe(SIZE);
    expect(got.finalized).toBe('ready');
    expect(got.pauses).toBe(SIZE / MIB);
    // The server's own clock: bytes flowed for longer than the idle timeout, so this was no deadline.
    expect(got.lastByteAt - got.firstByteAt).toBeGreaterThan(IDLE_MS);
  }, 60_000);

  it('fails an upload whose server stops reading, with a TimeoutError naming the idle timeout', async () => {
    const { rt, got } = await startServer((req, _res, counts) => {
      if (counts.bytes >= MIB) req.pause(); // reads the first MiB, then nothing, and never answers
    });
    const started = performance.now();
    const error = await rt.logEpisode({ source: 'sim', video }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(`upload video: no bytes moved for ${IDLE_MS} ms (1 attempt)`);
    // It cannot have given up before the idle timeout passed without progress.
    expect(performance.now() - started).toBeGreaterThanOrEqual(IDLE_MS);
    expect(got.bytes).toBeLessThan(SIZE);
    expect(got.finalized).toBe('failed'); // logEpisode marks the run failed with the reason
  }, 60_000);
});
