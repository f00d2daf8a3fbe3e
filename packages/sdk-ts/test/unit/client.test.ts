import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { beforeAll, describe, expect, it } from 'vitest';
import { RoboTrace, type RoboTraceClientOptions } from '../../src/client.js';
import { APIError, ArgumentError, ConfigurationError } from '../../src/errors.js';
import { SDK_VERSION } from '../../src/version.js';
import { BASE, created, ingestFake, json, KEY } from '../support/fake-fetch.js';
import { installContextManager, withSpan } from '../support/otel.js';

const dir = mkdtempSync(join(tmpdir(), 'robotrace-sdk-unit-'));
const video = join(dir, 'run.mp4');
const sensors = join(dir, 'imu.bin');
writeFileSync(video, Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251)));
writeFileSync(sensors, Buffer.from('imu samples'));

const SPAN = {
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
  span_id: '00f067aa0ba902b7',
  trace_flags: 1,
  trace_state: '',
};
const UNSAMPLED = { ...SPAN, trace_flags: 0 };

function setup(options: RoboTraceClientOptions = {}, overrides: Parameters<typeof ingestFake>[0] = {}) {
  const fetch = ingestFake(overrides);
  const rt = new RoboTrace({ apiKey: KEY, baseUrl: BASE, fetch, env: {}, quiet: true, ...options });
  const createBody = () =>
    fetch.requests.find((r) => r.url.endsWith('/api/ingest/episode'))?.json() as Record<string, unknown>;
  const finalizeBody = () =>
    fetch.requests.find((r) => r.url.endsWith('/finalize'))?.json() as Record<string, unknown>;
  return { rt, fetch, createBody, finalizeBody };
}

beforeAll(installContextManager);

describe('logEpisode', () => {
  it('creates, streams the files to their signed URLs and finalizes, with the wire fields of the contract', async () => {
    const { rt, fetch, createBody, finalizeBody } = setup();
    const episode = await rt.logEpisode({
      name: 'pick-cube',
      source: 'sim',
      robot: 'ur5e',
      policyVersion: 'v1.4',
      envVersion: 'mujoco-3',
      gitSha: 'abc123',
      seed: 7,
      fps: 30,
      durationS: 12.5,
      video,
      sensors,
      metadata: { task: 'pick', joint: { __type: 'robotrace.JointState', positions: [0.1] } },
    });
    expect(episode).toMatchObject({
      id: 'ep-1',
      status: 'ready',
      url: `${BASE}/portal/episodes/ep-1`,
      bytesUploaded: 300_011,
    });
    expect(createBody()).toEqual({
      source: 'sim',
      request_uploads: ['video', 'sensors'],
      name: 'pick-cube',
      robot: 'ur5e',
      policy_version: 'v1.4',
      env_version: 'mujoco-3',
      git_sha: 'abc123',
      seed: 7,
      fps: 30,
      metadata: { task: 'pick', joint: { __type: 'robotrace.JointState', positions: [0.1] } },
      // Ours: the start on this machine's clock (now − durationS), Unix ns as a decimal string.
      started_at_unix_ns: expect.stringMatching(/^[1-9]\d{0,18}$/),
    });
    expect(BigInt(createBody().started_at_unix_ns as string)).toBeLessThanOrEqual(
      BigInt(Date.now()) * 1_000_000n - 12_500_000_000n,
    );
    expect(finalizeBody()).toEqual({ status: 'ready', bytes_total: 300_011, duration_s: 12.5, fps: 30 });

    const [create] = fetch.requests;
    expect(create?.headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      accept: 'application/json',
      'x-robotrace-sdk-version': SDK_VERSION,
    });
    expect(create?.headers['user-agent']).toMatch(/^robotrace-ts\/\d+\.\d+\.\d+ node\//);

    const puts = fetch.requests.filter((r) => r.method === 'PUT');
    expect(
      puts.map((p) => [new URL(p.url).pathname, p.headers['content-type'], p.headers['content-length']]),
    ).toEqual([
      ['/upload/ep-1/video', 'video/mp4', '300000'],
      ['/upload/ep-1/sensors', 'application/octet-stream', '11'],
    ]);
    expect(puts[0]?.body.equals(Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251)))).toBe(true);
    expect(puts[0]?.headers.authorization).toBeUndefined();
  });

  it('finalizes a failed run with its reason and failure time', async () => {
    const { rt, finalizeBody } = setup();
    const episode = await rt.logEpisode({
      source: 'real',
      status: 'failed',
      failureReason: 'gripper slipped',
      failureTimeS: 3.2,
    });
    expect(episode.status).toBe('failed');
    expect(finalizeBody()).toEqual({
      status: 'failed',
      bytes_total: 0,
      failure_time_s: 3.2,
      metadata: { failure_reason: 'gripper slipped' },
    });
  });

  it('when an upload fails, marks the episode failed with the reason and throws the error', async () => {
    const { rt, finalizeBody } = setup(
      {},
      {
        1: () =>
          json(413, { error: 'video is over the 2 GiB limit', code: 'payload_too_large', request_id: 'r' }),
      },
    );
    const error = await rt.logEpisode({ source: 'sim', video }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 413, message: 'video is over the 2 GiB limit' });
    expect(finalizeBody()).toMatchObject({
      status: 'failed',
      metadata: { failure_reason: 'upload of video failed: video is over the 2 GiB limit' },
    });
  });

  it('retries an upload the storage refused with 503, sending the whole file again', async () => {
    const busy = () => json(503, { error: 'busy' }, { 'retry-after': '0' });
    const { rt, fetch, finalizeBody } = setup({}, { 1: busy });
    const episode = await rt.logEpisode({ source: 'sim', video });
    const puts = fetch.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(2);
    expect(puts.map((p) => p.body.length)).toEqual([300_000, 300_000]);
    expect(episode.status).toBe('ready');
    expect(finalizeBody()).toMatchObject({ status: 'ready', bytes_total: 300_000 });
  });

  it.each([
    ['an unknown source', { source: 'moon' }, /source must be one of real, sim, replay/],
    ['a fractional seed', { seed: 1.5 }, /seed must be an integer/],
    ['a negative fps', { fps: -1 }, /fps must be a finite number ≥ 0/],
    [
      'a missing video file',
      { video: join(dir, 'nope.mp4') },
      /video file .*nope\.mp4 cannot be read \(ENOENT\)/,
    ],
    ['a directory as video', { video: dir }, /is not a regular file/],
    ['metadata that is not JSON', { metadata: { big: 10n } }, /metadata is not JSON-serializable/],
    ['a failure reason on a ready run', { failureReason: 'x' }, /need status: "failed"/],
  ])('rejects %s before any request (no orphaned episode)', async (_name, bad, message) => {
    const { rt, fetch } = setup();
    const error = await rt.logEpisode({ source: 'sim', ...(bad as object) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(message);
    expect(fetch.requests).toHaveLength(0);
  });
});

describe('trace context on the wire', () => {
  it('sends the active span as the top-level otel block', async () => {
    const { rt, createBody } = setup();
    await withSpan(SPAN, () => rt.logEpisode({ source: 'sim' }));
    expect(createBody().otel).toEqual({
      trace_id: SPAN.trace_id,
      span_id: SPAN.span_id,
      traceparent: `00-${SPAN.trace_id}-${SPAN.span_id}-01`,
    });
  });

  it('sends no otel key without an active span', async () => {
    const { rt, createBody } = setup();
    await rt.logEpisode({ source: 'sim' });
    expect(createBody()).not.toHaveProperty('otel');
  });

  it('respectSampled (option or ROBOTRACE_OTEL_RESPECT_SAMPLED=1) drops an unsampled span', async () => {
    for (const options of [
      { otel: { respectSampled: true } },
      { env: { ROBOTRACE_OTEL_RESPECT_SAMPLED: '1' } },
    ]) {
      const { rt, createBody } = setup(options);
      await withSpan(UNSAMPLED, () => rt.logEpisode({ source: 'sim' }));
      expect(createBody()).not.toHaveProperty('otel');
    }
  });

  it('metadata.otel = null opts out; an explicit metadata.otel object is sent instead of the span', async () => {
    const optOut = setup();
    await withSpan(SPAN, () =>
      optOut.rt.logEpisode({ source: 'sim', metadata: { otel: null, task: 'pick' } }),
    );
    expect(optOut.createBody()).not.toHaveProperty('otel');
    expect(optOut.createBody().metadata).toEqual({ otel: null, task: 'pick' });

    const explicit = setup();
    const mine = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    await withSpan(SPAN, () => explicit.rt.logEpisode({ source: 'sim', metadata: { otel: mine } }));
    expect(explicit.createBody()).not.toHaveProperty('otel');
    expect(explicit.createBody().metadata).toEqual({ otel: mine });
  });

  it('startEpisode keeps the span active at start, whatever span is active at finish', async () => {
    const { rt, createBody, finalizeBody } = setup();
    const episode = await withSpan(SPAN, () => rt.startEpisode({ source: 'sim' }));
    const other = { ...SPAN, trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' };
    await withSpan(other, () => episode.finish());
    expect((createBody().otel as { span_id: string }).span_id).toBe(SPAN.span_id);
    expect(finalizeBody()).not.toHaveProperty('otel');
    expect(episode.otel?.span_id).toBe(SPAN.span_id);
  });

  it('linkSpan sets robotrace.episode_id and robotrace.episode_url on the recording span', async () => {
    const { rt } = setup({ otel: { linkSpan: true } });
    const attributes = await withSpan(SPAN, async (span) => {
      await rt.logEpisode({ source: 'sim' });
      return (span as unknown as ReadableSpan).attributes;
    });
    expect(attributes).toEqual({
      'robotrace.episode_id': 'ep-1',
      'robotrace.episode_url': `${BASE}/portal/episodes/ep-1`,
    });
  });

  it('without linkSpan the span is left untouched', async () => {
    const { rt } = setup();
    const attributes = await withSpan(SPAN, async (span) => {
      await rt.logEpisode({ source: 'sim' });
      return (span as unknown as ReadableSpan).attributes;
    });
    expect(attributes).toEqual({});
  });
});

describe('started_at_unix_ns', () => {
  it('startEpisode sends the moment it started; logEpisode only with a duration, never failing for one', async () => {
    const started = setup();
    const before = BigInt(Date.now()) * 1_000_000n;
    await started.rt.startEpisode({ name: 'live', artifacts: [] });
    const after = BigInt(Date.now()) * 1_000_000n;
    const sent = BigInt(started.createBody().started_at_unix_ns as string);
    expect(sent >= before && sent <= after).toBe(true);

    const noDuration = setup();
    await noDuration.rt.logEpisode({ name: 'no duration' });
    expect(noDuration.createBody()).not.toHaveProperty('started_at_unix_ns');

    const tooLong = setup();
    await tooLong.rt.logEpisode({ name: 'longer than the epoch', durationS: 1e300 });
    expect(tooLong.createBody()).not.toHaveProperty('started_at_unix_ns');
  });
});

describe('startEpisode handle', () => {
  it('requests all three slots by default, uploads any of them and fails with an Error as reason', async () => {
    const { rt, createBody, finalizeBody, fetch } = setup();
    const episode = await rt.startEpisode({ name: 'live', source: 'real' });
    expect(createBody().request_uploads).toEqual(['video', 'sensors', 'actions']);
    await episode.upload('sensors', sensors);
    await episode.fail(new Error('e-stop'), { failureTimeS: 1 });
    expect(fetch.requests.filter((r) => r.method === 'PUT').map((r) => new URL(r.url).pathname)).toEqual([
      '/upload/ep-1/sensors',
    ]);
    expect(finalizeBody()).toMatchObject({
      status: 'failed',
      bytes_total: 11,
      failure_time_s: 1,
      metadata: { failure_reason: 'e-stop' },
    });
    expect(finalizeBody().duration_s).toBeTypeOf('number');
  });

  it('refuses a slot that was not requested, before uploading', async () => {
    const { rt, fetch } = setup();
    const episode = await rt.startEpisode({ artifacts: ['video'] });
    await expect(episode.upload('actions', sensors)).rejects.toThrow(/has no actions upload slot/);
    expect(fetch.requests).toHaveLength(1);
  });
});

describe('expired upload URLs', () => {
  const expired = () =>
    json(403, { error: 'This signed URL has expired', code: 'url_expired', request_id: 'r' });
  const putUrls = (fetch: ReturnType<typeof setup>['fetch']) =>
    fetch.requests.filter((r) => r.method === 'PUT').map((r) => new URL(r.url).search);

  it('a slot already past its expiry gets a fresh URL before the file is sent', async () => {
    const { rt, fetch } = setup({}, { 0: () => created('ep-1', ['video'], '2020-01-01T00:00:00Z') });
    const episode = await rt.logEpisode({ source: 'sim', video });
    expect(episode.status).toBe('ready');
    const refresh = fetch.requests.find((r) => r.url.endsWith('/upload-url'));
    expect(refresh?.json()).toEqual({ kind: 'video' });
    expect(putUrls(fetch)).toEqual(['?sig=fresh']);
  });

  it('a PUT refused as url_expired asks for a fresh URL once and sends again', async () => {
    const { rt, fetch } = setup({}, { 1: expired });
    const episode = await rt.logEpisode({ source: 'sim', video });
    expect(episode.status).toBe('ready');
    expect(putUrls(fetch)).toEqual(['?sig=x', '?sig=fresh']);
    expect(fetch.requests.filter((r) => r.url.endsWith('/upload-url'))).toHaveLength(1);
  });

  it('a second refusal is reported, not looped on', async () => {
    const { rt, fetch } = setup({}, { 1: expired, 3: expired });
    const error = await rt.logEpisode({ source: 'sim', video }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: 'url_expired' });
    expect(putUrls(fetch)).toEqual(['?sig=x', '?sig=fresh']);
  });
});

describe('portal URL line', () => {
  const tty = () => {
    const lines: string[] = [];
    return { lines, isTTY: true, write: (text: string) => lines.push(text) };
  };

  it('is printed once on a terminal', async () => {
    const output = tty();
    const { rt } = setup({ quiet: undefined, output });
    await rt.logEpisode({ source: 'sim', video });
    expect(output.lines).toEqual([`[robotrace] → ${BASE}/portal/episodes/ep-1\n`]);
  });

  it("is the server's portal_url, the same as Episode.url, when the server's public URL differs", async () => {
    // Regression: the line was built from our base URL while Episode.url came from the answer.
    const publicUrl = 'https://robotrace.example.com/portal/episodes/ep-1';
    const answer = () =>
      json(201, {
        episode_id: 'ep-1',
        status: 'recording',
        storage: 'local',
        upload_urls: [],
        portal_url: publicUrl,
        warnings: [],
      });
    const output = tty();
    const { rt } = setup({ quiet: undefined, output }, { 0: answer });
    const episode = await rt.logEpisode({ source: 'sim' });
    expect(episode.url).toBe(publicUrl);
    expect(output.lines).toEqual([`[robotrace] → ${publicUrl}\n`]);
  });

  it('is not printed when quiet (option or ROBOTRACE_QUIET) or when not a terminal', async () => {
    for (const options of [
      { quiet: true, output: tty() },
      { quiet: undefined, env: { ROBOTRACE_QUIET: 'yes' }, output: tty() },
      { quiet: undefined, output: { ...tty(), isTTY: false } },
    ]) {
      const { rt } = setup(options);
      await rt.logEpisode({ source: 'sim' });
      expect(options.output.lines).toEqual([]);
    }
  });
});

describe('secrets', () => {
  it('printing or serializing the client or an episode never shows the API key', async () => {
    const { rt } = setup();
    const episode = await rt.logEpisode({ source: 'sim' });
    for (const value of [rt, episode]) {
      expect(inspect(value, { depth: 10 })).not.toContain(KEY);
      expect(JSON.stringify(value)).not.toContain(KEY);
    }
  });
});

describe('configuration errors', () => {
  it('a missing key says how to set one', () => {
    const home = mkdtempSync(join(tmpdir(), 'robotrace-nohome-'));
    expect(() => new RoboTrace({ env: { HOME: home }, baseUrl: BASE })).toThrow(ConfigurationError);
    expect(() => new RoboTrace({ env: { HOME: home }, baseUrl: BASE })).toThrow(
      /set ROBOTRACE_API_KEY.*robotrace login/,
    );
  });
});
