import { randomBytes } from 'node:crypto';
import type { CreateEpisodeResponse } from '@robotrace/contracts';
import { api, S, T, TRACEPARENT } from './api.js';

/** Helpers of the data-lifecycle tests (issue 20): episodes with real uploads, and waiting for an outcome. */

export interface SeededEpisode {
  id: string;
  /** The upload URL of each file (its path names the storage key). */
  urls: string[];
}

/** Creates an episode, uploads a video and a sensors file to its signed URLs and finalizes it as `status`. */
export async function seedEpisode(
  baseUrl: string,
  apiKey: string,
  opts: { name: string; status?: 'ready' | 'failed'; bytes?: number },
): Promise<SeededEpisode> {
  const client = api(baseUrl, apiKey);
  const created = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
    source: 'sim',
    name: opts.name,
    robot: 'arm-7',
    policy_version: 'pi-0.4',
    env_version: 'sim-2.1',
    git_sha: 'abc1234',
    seed: 42,
    fps: 30,
    metadata: { lab: 'b', run: opts.name, nested: { gains: [0.5, 1.5] } },
    otel: { trace_id: T, span_id: S, traceparent: TRACEPARENT },
    request_uploads: ['video', 'sensors'],
  });
  if (created.status !== 201) throw new Error(`create answered ${created.status}`);
  for (const u of created.body.upload_urls) {
    const put = await fetch(u.url, {
      method: 'PUT',
      body: new Uint8Array(randomBytes(opts.bytes ?? 2048)),
      headers: { 'content-type': u.kind === 'video' ? 'video/mp4' : 'application/octet-stream' },
    });
    if (put.status >= 400) throw new Error(`upload answered ${put.status}`);
  }
  const status = opts.status ?? 'ready';
  const fin = await client.post(`/api/ingest/episode/${created.body.episode_id}/finalize`, {
    status,
    duration_s: 3.5,
    ...(status === 'failed' ? { failure_time_s: 1 } : {}),
  });
  if (fin.status !== 200) throw new Error(`finalize answered ${fin.status}`);
  return { id: created.body.episode_id, urls: created.body.upload_urls.map((u) => u.url) };
}

/** Polls `check` until it holds (a condition a user would wait for, with a generous bound); throws past it. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`still not true after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The sum of `deleted=` over an instance's "retention sweep" log lines. */
export function sweptInLog(output: string): number {
  let total = 0;
  for (const m of output.matchAll(/ retention sweep deleted=(\d+)/g)) total += Number(m[1]);
  return total;
}
