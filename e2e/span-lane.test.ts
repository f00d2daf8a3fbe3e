import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { context as otelContext, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { EpisodeTrace } from '@robotrace/contracts';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npz } from '../packages/sdk-ts/src/demo/npz.js';
import { demoVideo } from '../packages/sdk-ts/src/demo/video.js';
import { RoboTrace } from '../packages/sdk-ts/src/index.js';
import { startJaeger, type TestJaeger } from '../test/support/jaeger.js';
import { startServer, TEST_EMAIL, TEST_PASSWORD, type TestServer } from '../test/support/server.js';
import {
  launchBrowser,
  newContext,
  type PageWatch,
  screenshot,
  signIn,
  watchPage,
} from './support/browser.js';

/**
 * The span lane end to end: rollouts traced with the real OpenTelemetry SDKs (TypeScript, our Python SDK, the
 * official robotrace-dev) export their spans to a real Jaeger v2 over OTLP/HTTP and log an episode inside the
 * rollout span; the started server reads them back through Jaeger's query API; Chromium shows them on the
 * episode page (Tracing card + lane, synced with the video) and on the trace page. Then the backend fails.
 */
const ROOT = resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const MS = 1_000_000n;
const HOSTILE = `<img src=x onerror=alert('span')>`;

let jaeger: TestJaeger;
let server: TestServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;
const dir = mkdtempSync(join(tmpdir(), 'robotrace-span-lane-'));
const videoPath = join(dir, 'rollout.mp4');
const sensorsPath = join(dir, 'rollout-sensors.npz');
const SENSOR_SAMPLES = 125; // 2.5 s at 50 Hz

interface Logged {
  id: string;
  traceId: string;
  spanId: string;
  rolloutStartNs: bigint;
}
const logged: Record<'ts' | 'py' | 'official', Logged | undefined> = {
  ts: undefined,
  py: undefined,
  official: undefined,
};

beforeAll(async () => {
  writeFileSync(videoPath, demoVideo('place')); // 3 s
  // One sensor track, so the TS rollout's timeline has a track lane beside its span lane.
  writeFileSync(
    sensorsPath,
    npz({
      'imu/accel_x': {
        dtype: 'float64',
        shape: [SENSOR_SAMPLES],
        data: Array.from({ length: SENSOR_SAMPLES }, (_, i) => Math.sin(i / 10)),
      },
      'imu/_t_ns': {
        dtype: 'int64',
        shape: [SENSOR_SAMPLES],
        data: Array.from({ length: SENSOR_SAMPLES }, (_, i) => BigInt(i) * 20n * MS),
      },
    }),
  );
  jaeger = await startJaeger();
  server = await startServer({
    env: {
      ROBOTRACE_TRACE_SOURCE: `jaeger:${jaeger.query}`,
      // No cache: a test that stops the backend sees it on the next read.
      ROBOTRACE_TRACE_SOURCE_CACHE_TTL_S: '0',
      NEXT_PUBLIC_TRACE_URL_TEMPLATE: 'https://jaeger.example.com/trace/{trace_id}?uiFind={span_id}',
    },
  });
  browser = await launchBrowser();
  const ctx = await newContext(browser);
  await ctx.route('https://jaeger.example.com/**', (route) => route.fulfill({ status: 200, body: 'apm' }));
  page = await ctx.newPage();
  watch = watchPage(page);
  await signIn(page, server.baseUrl, TEST_EMAIL, TEST_PASSWORD);
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await jaeger?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The TS rollout: `rollout` (the episode is logged inside it) with sensor.fetch 0.1–0.3 s, policy.infer
 * 1.0–1.2 s (an error, an event, a link-like and a hostile attribute), a hostile-named span and post.process
 * 2.7–2.9 s, after the episode's 2.5 s.
 */
async function tsRollout(): Promise<Logged> {
  otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'robot-runtime' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${jaeger.otlpHttp}/v1/traces` }))],
  });
  trace.setGlobalTracerProvider(provider);
  const tracer = trace.getTracer('rollout');
  const client = new RoboTrace({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  const result = await tracer.startActiveSpan(
    'rollout',
    { startTime: new Date(Date.now() - 3_000) },
    async (root) => {
      // Our SDK sends the episode's start on its own clock (now − durationS, at ms resolution): the spans are laid
      // out from that start, as a robot's would be, so every position below is exact.
      const episode = await client.logEpisode({
        name: 'ts rollout',
        source: 'sim',
        video: videoPath,
        sensors: sensorsPath,
        durationS: 2.5,
      });
      const startNs = BigInt((await traceOf(episode.id)).alignment.start_unix_ns);
      const t0 = Number(startNs / MS);
      const at = (ms: number) => new Date(t0 + ms);
      tracer.startSpan('sensor.fetch', { startTime: at(100) }).end(at(300));
      const infer = tracer.startSpan('policy.infer', {
        startTime: at(1000),
        attributes: {
          'model.version': 'pi-0.3.1',
          'runbook.url': 'https://runbooks.example.com/policy',
          'evil.url': 'javascript:alert(1)',
        },
      });
      infer.addEvent('batch.ready', { size: 8 }, at(1100));
      infer.setStatus({ code: SpanStatusCode.ERROR, message: 'CUDA out of memory' });
      infer.end(at(1200));
      tracer.startSpan(HOSTILE, { startTime: at(1500) }).end(at(1600));
      tracer.startSpan('post.process', { startTime: at(2700) }).end(at(2900));
      const { traceId, spanId } = root.spanContext();
      root.end(at(2950));
      return { id: episode.id, traceId, spanId, rolloutStartNs: startNs };
    },
  );
  await provider.forceFlush();
  await provider.shutdown();
  return result;
}

/** The same rollout shape from Python, with our SDK or the official robotrace-dev (which sends no start time). */
async function pythonRollout(venv: 'venv-sdk' | 'venv-official', service: string): Promise<Logged> {
  const script = join(dir, `${venv}.py`);
  writeFileSync(
    script,
    `import json, os, time
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
import robotrace

provider = TracerProvider(resource=Resource.create({"service.name": os.environ["SERVICE"]}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=os.environ["OTLP"] + "/v1/traces")))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("rollout")
robotrace.init(api_key=os.environ["KEY"], base_url=os.environ["BASE"])
t0 = time.time_ns() - 3_000_000_000
ms = 1_000_000
with tracer.start_as_current_span("rollout", start_time=t0, end_on_exit=False) as root:
    tracer.start_span("sensor.fetch", start_time=t0 + 100 * ms).end(end_time=t0 + 300 * ms)
    infer = tracer.start_span("policy.infer", start_time=t0 + 1000 * ms)
    infer.add_event("batch.ready", timestamp=t0 + 1100 * ms)
    infer.end(end_time=t0 + 1200 * ms)
    episode = robotrace.log_episode(name=os.environ["SERVICE"], source="sim", duration_s=2.5)
    ctx = root.get_span_context()
    root.end(end_time=t0 + 2950 * ms)
provider.shutdown()
print(json.dumps({"id": episode.id, "traceId": format(ctx.trace_id, "032x"), "spanId": format(ctx.span_id, "016x"), "t0": str(t0)}))
`,
  );
  const { stdout } = await run(join(ROOT, '.cache', venv, 'bin', 'python'), [script], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      SERVICE: service,
      OTLP: jaeger.otlpHttp,
      KEY: server.apiKey,
      BASE: server.baseUrl,
    },
    timeout: 120_000,
  });
  const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Logged & { t0: string };
  return { id: out.id, traceId: out.traceId, spanId: out.spanId, rolloutStartNs: BigInt(out.t0) };
}

async function traceOf(id: string): Promise<EpisodeTrace> {
  const res = await fetch(`${server.baseUrl}/api/episodes/${id}/trace`, {
    headers: { authorization: `Bearer ${server.apiKey}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as EpisodeTrace;
}

/** Exporters and Jaeger's pipeline batch: read until the backend has all `spans`. */
async function traceWith(id: string, spans: number): Promise<EpisodeTrace> {
  let last = await traceOf(id);
  for (let i = 0; i < 150 && !(last.status === 'found' && last.total_spans >= spans); i++) {
    await new Promise((r) => setTimeout(r, 200));
    last = await traceOf(id);
  }
  return last;
}

const tracing = () => page.getByRole('region', { name: 'Tracing' });
/** The span lane: one lane of the replay timeline, not a widget of the Tracing card. */
const lane = () => page.locator('[data-replay] section[data-track="trace:spans"] [data-span-lane]');
const replay = () => page.locator('[data-replay]');
/** The view of the shared axis and of the span lane, in ns on the episode's timeline. */
const views = async () => {
  const num = async (n: string, a: string) => Number(await n_(n).getAttribute(a));
  const n_ = (n: string) => (n === 'axis' ? replay() : lane());
  return {
    axis: { from: await num('axis', 'data-view-from-ns'), to: await num('axis', 'data-view-to-ns') },
    spans: { from: await num('spans', 'data-view-from-ns'), to: await num('spans', 'data-view-to-ns') },
  };
};

describe('span lane against a real Jaeger v2', () => {
  it('the TS SDK rollout: the API returns its spans, aligned on the start the SDK sent', async () => {
    const ts = await tsRollout();
    logged.ts = ts;
    const r = await traceWith(ts.id, 5);
    expect(r).toMatchObject({ status: 'found', source: 'jaeger', trace_id: ts.traceId, span_id: ts.spanId });
    const byName = new Map(r.spans.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(
      [HOSTILE, 'policy.infer', 'post.process', 'rollout', 'sensor.fetch'].sort(),
    );
    for (const name of ['sensor.fetch', 'policy.infer', 'post.process'])
      expect(byName.get(name)?.parent_span_id).toBe(ts.spanId);
    expect(byName.get('policy.infer')).toMatchObject({
      service: 'robot-runtime',
      status: { code: 'error', message: 'CUDA out of memory' },
      attributes: { 'model.version': 'pi-0.3.1' },
      events: [{ name: 'batch.ready', attributes: { size: 8 } }],
    });
    // The SDK sent the episode's start (now − durationS): that is t = 0, not the rollout span's start.
    expect(r.alignment).toMatchObject({ anchor: 'client_start', start_unix_ns: String(ts.rolloutStartNs) });
    expect(r.window).toEqual({
      start_unix_ns: String(ts.rolloutStartNs),
      end_unix_ns: String(ts.rolloutStartNs + 2500n * MS),
    });
  });

  it('the episode page: the Tracing card says found before any click; the lane seeks the video and highlights the active spans', async () => {
    const ts = logged.ts;
    if (!ts) throw new Error('needs the TS rollout');
    await page.goto(`${server.baseUrl}/portal/episodes/${ts.id}`);
    const status = tracing().locator('[data-trace-status]');
    await status.filter({ hasText: 'Found in the trace backend' }).waitFor();
    await expect(status.textContent()).resolves.toBe(
      'Found in the trace backend: 5 spans · services: robot-runtime',
    );
    await page.locator('[data-span-lane][data-drawn="true"]').waitFor();
    // The lane is on the replay timeline, first under the video, before the track lane; the card has none.
    await replay().locator('section[data-track] canvas[data-playhead-x]').first().waitFor();
    const order = ((await replay().getAttribute('data-lane-order')) ?? '').split('\n');
    expect(order[0]).toBe('trace:spans');
    expect(order.length).toBe(2);
    await expect(tracing().locator('[data-span-lane]').count()).resolves.toBe(0);
    await expect(
      lane().locator('[data-span-lane-anchor]').getAttribute('data-span-lane-anchor'),
    ).resolves.toBe('client_start');
    // Nesting by parent: the rollout first, its children after it by start time.
    const rows = lane().locator('.span-lane-row');
    await expect(rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))).resolves.toEqual([
      'rollout',
      'sensor.fetch',
      'policy.infer',
      HOSTILE,
      'post.process',
    ]);
    const row = (name: string) => lane().getByRole('button', { name, exact: true });
    await expect(row('rollout').getAttribute('data-own')).resolves.toBe('true');
    await expect(row('policy.infer').getAttribute('data-error')).resolves.toBe('true');
    await expect(row('post.process').getAttribute('data-outside')).resolves.toBe('true');
    await expect(row('sensor.fetch').getAttribute('data-outside')).resolves.toBeNull();

    await row('policy.infer').click();
    await page.waitForFunction(
      () => Math.abs((document.querySelector('video')?.currentTime ?? -1) - 1.0) < 0.01,
    );
    await expect(row('policy.infer').getAttribute('data-active')).resolves.toBe('true');
    await expect(row('rollout').getAttribute('data-active')).resolves.toBe('true');
    await expect(row('sensor.fetch').getAttribute('data-active')).resolves.toBeNull();
    const details = lane().getByRole('complementary', { name: 'Span details' });
    await expect(details.textContent()).resolves.toMatch(
      /policy\.infer.*robot-runtime.*200\.0 ms.*error: CUDA out of memory/,
    );
    await expect(details.textContent()).resolves.toContain('batch.ready at 1.100 s');
    // Only the http(s) attribute value is a link; "Open in <APM>" carries the clicked span's id.
    await expect(
      details.getByRole('link', { name: 'https://runbooks.example.com/policy' }).count(),
    ).resolves.toBe(1);
    await expect(details.getByRole('link', { name: 'javascript:alert(1)' }).count()).resolves.toBe(0);
    await screenshot(page, 'span-lane-episode');
    const infer = (await traceOf(ts.id)).spans.find((s) => s.name === 'policy.infer');
    await expect(details.getByRole('link', { name: 'Open trace' }).getAttribute('href')).resolves.toBe(
      `https://jaeger.example.com/trace/${ts.traceId}?uiFind=${infer?.span_id}`,
    );

    // The video's own time moves the playhead: at 0.2 s only the rollout and sensor.fetch are active.
    await page.evaluate(() => {
      const v = document.querySelector('video');
      if (v) v.currentTime = 0.2;
    });
    await page.waitForFunction(() =>
      document.querySelector('[data-span-lane] [aria-label="sensor.fetch"]')?.hasAttribute('data-active'),
    );
    await expect(row('policy.infer').getAttribute('data-active')).resolves.toBeNull();
    expect(watch.dialogs).toEqual([]);
    expect(watch.errors).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });

  it('the span lane shares the replay axis: zoom and pan move it with the track lane, one playhead x for all', async () => {
    const ts = logged.ts;
    if (!ts) throw new Error('needs the TS rollout');
    await page.goto(`${server.baseUrl}/portal/episodes/${ts.id}?t=1100`);
    await page.locator('[data-replay][data-state="ready"]').waitFor();
    await lane().locator('.span-lane-row').first().waitFor();
    const before = await views();
    expect(before.spans).toEqual(before.axis);
    // Zoom with the wheel on the shared axis: the span lane's view follows.
    await replay().locator('.replay-axis-wrap .replay-overlay').hover();
    await page.mouse.wheel(0, -400);
    await page.waitForFunction(
      (w) => Number(document.querySelector('[data-replay]')?.getAttribute('data-view-to-ns')) < w,
      before.axis.to,
    );
    const zoomed = await views();
    expect(zoomed.axis.to - zoomed.axis.from).toBeLessThan(before.axis.to - before.axis.from);
    expect(zoomed.spans).toEqual(zoomed.axis);
    // The playhead (at 1.1 s, inside policy.infer) is at the same x on the span lane and the track lane.
    await expect(
      lane().getByRole('button', { name: 'policy.infer', exact: true }).getAttribute('data-active'),
    ).resolves.toBe('true');
    const xs = async () => {
      const track = Number(
        await replay()
          .locator('section[data-track]:not([data-track="trace:spans"]) canvas.replay-overlay')
          .getAttribute('data-playhead-x'),
      );
      return { track, spans: Number(await lane().getAttribute('data-playhead-x')) };
    };
    await page.waitForFunction(() =>
      document.querySelector('[data-replay] [data-span-lane]')?.hasAttribute('data-playhead-x'),
    );
    const aligned = () =>
      page.waitForFunction(() => {
        const spans = Number(
          document.querySelector('[data-replay] [data-span-lane]')?.getAttribute('data-playhead-x'),
        );
        const track = Number(
          document
            .querySelector(
              '[data-replay] section[data-track]:not([data-track="trace:spans"]) canvas.replay-overlay',
            )
            ?.getAttribute('data-playhead-x'),
        );
        return Math.abs(spans - track) < 1;
      });
    await aligned();
    const x = await xs();
    // Clicking a span moves that one playhead: the track lane's follows it to the span's start (0.1 s).
    await lane().getByRole('button', { name: 'sensor.fetch', exact: true }).click();
    await page.waitForFunction(
      () =>
        Math.abs(Number(document.querySelector('[data-replay]')?.getAttribute('data-cursor-ns')) - 1e8) < 1e7,
    );
    await aligned();
    const after = await xs();
    expect(after.track).toBeLessThan(x.track);
    // Widen to the whole trace: post.process (2.7–2.9 s, after the 2.5 s episode) comes into the shared view.
    await lane()
      .locator('xpath=ancestor::section[1]')
      .getByRole('button', { name: 'Widen the view to every span of the trace' })
      .click();
    const wide = await views();
    expect(wide.axis.to).toBeGreaterThanOrEqual(2_900_000_000);
    expect(wide.spans).toEqual(wide.axis);
    // Hideable like a track lane, and back.
    await replay().getByRole('button', { name: 'Hide Spans' }).click();
    await expect(lane().count()).resolves.toBe(0);
    await replay().getByRole('button', { name: 'Show Spans' }).click();
    await lane().locator('.span-lane-row').first().waitFor();
    await page.evaluate((id) => localStorage.removeItem(`robotrace:replay:lanes:${id}`), ts.id);
    expect(watch.errors).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });

  it('a ?t= link with a shift shows the same view: the playhead at t, the spans shifted', async () => {
    const ts = logged.ts;
    if (!ts) throw new Error('needs the TS rollout');
    // Shifted by +500 ms, policy.infer is 1.5–1.7 s and the hostile-named span 2.0–2.1 s: at 1.6 s only the former.
    await page.goto(`${server.baseUrl}/portal/episodes/${ts.id}?t=1600&trace_offset=500`);
    const row = (name: string) => lane().getByRole('button', { name, exact: true });
    await page.waitForFunction(() =>
      document.querySelector('[data-span-lane] [aria-label="policy.infer"]')?.hasAttribute('data-active'),
    );
    await expect(row(HOSTILE).getAttribute('data-active')).resolves.toBeNull();
    await expect(replay().getAttribute('data-cursor-ns')).resolves.toBe('1600000000');
    expect(watch.dialogs).toEqual([]);
    expect(watch.errors).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });

  it("a user's shift is kept in the URL and moves the spans", async () => {
    const ts = logged.ts;
    if (!ts) throw new Error('needs the TS rollout');
    await page.goto(`${server.baseUrl}/portal/episodes/${ts.id}?trace_offset=500`);
    const input = lane().locator('[data-span-lane-shift]');
    await input.waitFor();
    await expect(input.inputValue()).resolves.toBe('500');
    await expect(lane().locator('.span-lane-note').first().textContent()).resolves.toContain(
      'shifted by 500 ms',
    );
    await input.fill('-250');
    await input.dispatchEvent('change');
    await page.waitForURL(/trace_offset=-250/);
    await lane().locator('.span-lane-note', { hasText: 'shifted by -250 ms' }).waitFor();
    // A span now starts 250 ms earlier on the timeline: clicking policy.infer seeks to 0.75 s.
    await lane().getByRole('button', { name: 'policy.infer', exact: true }).click();
    await page.waitForFunction(
      () => Math.abs((document.querySelector('video')?.currentTime ?? -1) - 0.75) < 0.01,
    );
  });

  it('the trace page draws the whole waterfall with the episode as a bar; clicking it opens the episode at that moment', async () => {
    const ts = logged.ts;
    if (!ts) throw new Error('needs the TS rollout');
    await page.goto(`${server.baseUrl}/portal/traces/${ts.traceId}`);
    const waterfall = page.locator('[data-trace-waterfall]');
    await waterfall.locator('.span-lane-row').first().waitFor();
    await expect(waterfall.locator('.span-lane-row').count()).resolves.toBe(5);
    await screenshot(page, 'span-lane-trace-page');
    const bar = waterfall.getByRole('button', { name: 'Episode ts rollout' });
    const box = await bar.boundingBox();
    if (!box) throw new Error('the episode bar is not drawn');
    await bar.click({ position: { x: box.width / 2, y: box.height / 2 } });
    await page.waitForURL(new RegExp(`/portal/episodes/${ts.id}\\?t=\\d+$`));
    const t = Number(new URL(page.url()).searchParams.get('t'));
    // The middle of a 2.5 s episode's bar (the bar is the episode's window, and the page shows the whole trace).
    expect(t).toBeGreaterThan(1000);
    expect(t).toBeLessThan(1500);
  });

  it('compare: each episode of one trace gets its span lane on the shared axis, aligned like its video', async () => {
    const ts = logged.ts;
    if (!ts) throw new Error('needs the TS rollout');
    // A second episode in the same real-Jaeger trace, logged inside policy.infer and starting 1 s after the first
    // (on the robot's clock): its own timeline's 0 is the first one's 1.0 s.
    const infer = (await traceOf(ts.id)).spans.find((s) => s.name === 'policy.infer');
    if (!infer) throw new Error('no policy.infer span');
    const post = (path: string, body: unknown) =>
      fetch(`${server.baseUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = await post('/api/ingest/episode', {
      source: 'sim',
      name: 'second in trace',
      otel: { traceparent: `00-${ts.traceId}-${infer.span_id}-01` },
      started_at_unix_ns: String(ts.rolloutStartNs + 1000n * MS),
    });
    expect(created.status).toBe(201);
    const second = ((await created.json()) as { episode_id: string }).episode_id;
    expect(
      (await post(`/api/ingest/episode/${second}/finalize`, { status: 'ready', duration_s: 1 })).status,
    ).toBe(200);
    // Shared time 0.15 s: the first episode is in sensor.fetch (0.1–0.3 s), the second in policy.infer (its 0.15 s
    // is the first's 1.15 s).
    await page.goto(`${server.baseUrl}/portal/compare?ids=${ts.id},${second}&t=150`);
    const laneOf = (id: string) =>
      page.locator(`[data-replay-compare] section[data-spans-of="${id}"] [data-span-lane]`);
    const row = (id: string, name: string) => laneOf(id).getByRole('button', { name, exact: true });
    await page.locator('[data-replay-compare][data-state="ready"]').waitFor();
    await expect(page.locator('[data-replay-compare] section[data-spans-of]').count()).resolves.toBe(2);
    await page.waitForFunction(
      () =>
        document.querySelectorAll('[data-replay-compare] [data-span-lane] [data-active="true"]').length >= 3,
    );
    await expect(row(ts.id, 'sensor.fetch').getAttribute('data-active')).resolves.toBe('true');
    await expect(row(ts.id, 'policy.infer').getAttribute('data-active')).resolves.toBeNull();
    await expect(row(second, 'policy.infer').getAttribute('data-active')).resolves.toBe('true');
    await expect(row(second, 'sensor.fetch').getAttribute('data-active')).resolves.toBeNull();
    // Each lane highlights its own episode's span.
    await expect(row(ts.id, 'rollout').getAttribute('data-own')).resolves.toBe('true');
    await expect(row(second, 'policy.infer').getAttribute('data-own')).resolves.toBe('true');
    // The lanes' views are the shared view, shifted to each episode's own timeline (both aligned at starts: 0).
    const viewOf = async (id: string) => [
      Number(await laneOf(id).getAttribute('data-view-from-ns')),
      Number(await laneOf(id).getAttribute('data-view-to-ns')),
    ];
    expect(await viewOf(second)).toEqual(await viewOf(ts.id));
    // Clicking the second episode's post.process (its 1.7 s) moves the shared playhead there.
    await row(second, 'post.process').click();
    await page.waitForFunction(
      () =>
        Math.abs(
          Number(document.querySelector('[data-replay-compare]')?.getAttribute('data-cursor-ns')) - 1.7e9,
        ) < 1e6,
    );
    await screenshot(page, 'span-lane-compare');
    // The toggle hides every span lane.
    await page.getByRole('button', { name: 'Show the span lane of each episode with a trace' }).click();
    await expect(page.locator('[data-replay-compare]').getAttribute('data-spans')).resolves.toBe('hidden');
    await expect(laneOf(ts.id).isVisible()).resolves.toBe(false);
    expect(watch.errors).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });

  it('our Python SDK with opentelemetry-sdk: the API returns the spans and the card says found', async () => {
    const py = await pythonRollout('venv-sdk', 'py-robot');
    logged.py = py;
    const r = await traceWith(py.id, 3);
    expect(r.status).toBe('found');
    expect(r.spans.map((s) => [s.name, s.parent_span_id, s.service])).toEqual([
      ['rollout', null, 'py-robot'],
      ['sensor.fetch', py.spanId, 'py-robot'],
      ['policy.infer', py.spanId, 'py-robot'],
    ]);
    await page.goto(`${server.baseUrl}/portal/episodes/${py.id}`);
    await tracing()
      .locator('[data-trace-status]', { hasText: 'Found in the trace backend: 3 spans · services: py-robot' })
      .waitFor();
    // No tracks and no video: the timeline is still there, with the span lane alone on it.
    await lane().getByRole('button', { name: 'policy.infer', exact: true }).waitFor();
    await expect(replay().locator('video').count()).resolves.toBe(0);
    await expect(replay().getAttribute('data-lane-order')).resolves.toBe('trace:spans');
  });

  it('an episode from the official robotrace-dev (no start time sent) aligns on its own span', async () => {
    const official = await pythonRollout('venv-official', 'official-robot');
    logged.official = official;
    const r = await traceWith(official.id, 3);
    expect(r.status).toBe('found');
    expect(r.span_id).toBe(official.spanId);
    expect(r.alignment).toMatchObject({
      anchor: 'episode_span',
      start_unix_ns: String(official.rolloutStartNs),
    });
  });
});

describe('span lane when the backend fails', () => {
  let stall: TcpServer | undefined;
  const sockets: Socket[] = [];
  let garbage: Server | undefined;
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => (stall ? stall.close(r) : r(null)));
    garbage?.closeAllConnections();
    await new Promise((r) => (garbage ? garbage.close(r) : r(null)));
  });

  const openEpisode = async (): Promise<void> => {
    const ts = logged.ts;
    if (!ts) throw new Error('needs the TS rollout');
    const res = await page.goto(`${server.baseUrl}/portal/episodes/${ts.id}`, {
      waitUntil: 'domcontentloaded',
    });
    expect(res?.status()).toBe(200);
  };
  const cardSays = (text: RegExp) => tracing().locator('[data-trace-status]', { hasText: text }).waitFor();

  it('a stalling backend never delays the page: the HTML is there while the card still asks, then it says why', async () => {
    stall = createTcpServer((socket) => sockets.push(socket)); // accepts, never answers
    await new Promise<void>((r) => stall?.listen(0, '127.0.0.1', r));
    const port = (stall.address() as AddressInfo).port;
    await server.restart({
      ROBOTRACE_TRACE_SOURCE: `jaeger:http://127.0.0.1:${port}`,
      ROBOTRACE_TRACE_SOURCE_TIMEOUT_MS: '1500',
    });
    await openEpisode();
    await expect(page.getByRole('heading', { level: 1 }).isVisible()).resolves.toBe(true);
    await expect(tracing().locator('[data-trace-status]').textContent()).resolves.toBe(
      'Asking the trace backend…',
    );
    await cardSays(/Trace backend unavailable: the backend did not answer within 1500 ms/);
    await expect(lane().locator('[data-span-lane-status]').textContent()).resolves.toBe(
      'trace unavailable: the backend did not answer within 1500 ms',
    );
  });

  it('a server answering garbage: unavailable with the reason', async () => {
    garbage = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>sign in</html>'),
    );
    await new Promise<void>((r) => garbage?.listen(0, '127.0.0.1', r));
    const port = (garbage.address() as AddressInfo).port;
    await server.restart({ ROBOTRACE_TRACE_SOURCE: `otlp-json:http://127.0.0.1:${port}/t/{trace_id}` });
    await openEpisode();
    await cardSays(/Trace backend unavailable: the backend answered something that is not JSON/);
  });

  it('Jaeger stopped mid-test: the card says it cannot reach the backend, the page still renders', async () => {
    await server.restart({
      ROBOTRACE_TRACE_SOURCE: `jaeger:${jaeger.query}`,
      ROBOTRACE_TRACE_SOURCE_TIMEOUT_MS: '2000',
    });
    await openEpisode();
    await cardSays(/Found in the trace backend/);
    await jaeger.stop();
    await openEpisode();
    await cardSays(/Trace backend unavailable: cannot reach the backend/);
    await expect(page.getByRole('heading', { level: 1 }).isVisible()).resolves.toBe(true);
    const ts = logged.ts;
    await page.goto(`${server.baseUrl}/portal/traces/${ts?.traceId}`);
    await page
      .locator('[data-trace-waterfall] [data-span-lane-status]', {
        hasText: 'trace unavailable: cannot reach',
      })
      .waitFor();
    expect(watch.errors).toEqual([]);
  });
});
