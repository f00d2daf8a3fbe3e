import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context as otelContext, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoEpisodes } from '../packages/sdk-ts/src/demo/episodes.js';
import { npz } from '../packages/sdk-ts/src/demo/npz.js';
import { demoTracks } from '../packages/sdk-ts/src/demo/tracks.js';
import { DEMO_CLIPS, demoVideo } from '../packages/sdk-ts/src/demo/video.js';
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
 * Issue 16's pillars in a real Chromium against the started server: the eval list and diff card (and compare
 * from a result row), promoting an episode into the gate and the verify page, and the Insights card of the
 * failed demo episode (its NPZ tracks, and a trace exported to a real Jaeger by the OpenTelemetry SDK) — with
 * XSS probes in names, notes and metrics, and no dialog, page error or CSP report anywhere.
 */
const HOSTILE = `<img src=x onerror=alert('pillars')>`;
let jaeger: TestJaeger;
let server: TestServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;
const dir = mkdtempSync(join(tmpdir(), 'robotrace-pillars-'));

beforeAll(async () => {
  jaeger = await startJaeger();
  server = await startServer({
    env: { ROBOTRACE_TRACE_SOURCE: `jaeger:${jaeger.query}`, ROBOTRACE_TRACE_SOURCE_CACHE_TTL_S: '0' },
  });
  browser = await launchBrowser();
  page = await (await newContext(browser)).newPage();
  watch = watchPage(page);
  await signIn(page, server.baseUrl, TEST_EMAIL, TEST_PASSWORD);
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await jaeger?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function api(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-robotrace-key': server.apiKey },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 400 && res.status !== 422)
    throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The demo's failed rollout (seed 3: the cube slips), logged inside a real span with a failing grasp child. */
async function failedDemoRollout(): Promise<{ id: string; failAt: number }> {
  const demo = demoEpisodes().episodes.find((e) => e.options.status === 'failed' && e.clip === 'slip');
  if (!demo) throw new Error('the demo has no failed rollout');
  const tracks = demoTracks(demo.arm ?? 'ur5e', DEMO_CLIPS.slip.mishap, 3);
  const files = {
    video: join(dir, 'slip.mp4'),
    sensors: join(dir, 'sensors.npz'),
    actions: join(dir, 'actions.npz'),
  };
  writeFileSync(files.video, demoVideo('slip'));
  writeFileSync(files.sensors, npz(tracks.sensors));
  writeFileSync(files.actions, npz(tracks.actions));
  const { otel: _generated, ...metadata } = demo.options.metadata as Record<string, unknown>;

  otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'robot-runtime' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${jaeger.otlpHttp}/v1/traces` }))],
  });
  trace.setGlobalTracerProvider(provider);
  const tracer = trace.getTracer('pillars');
  const t0 = Date.now() - 3_000;
  const failAt = Number(demo.options.failureTimeS);
  const client = new RoboTrace({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  const id = await tracer.startActiveSpan('rollout', { startTime: new Date(t0) }, async (root) => {
    const grasp = tracer.startSpan(`gripper.grasp ${HOSTILE}`, {
      startTime: new Date(t0 + (failAt - 0.4) * 1000),
    });
    grasp.setStatus({ code: SpanStatusCode.ERROR, message: `grip force lost ${HOSTILE}` });
    grasp.end(new Date(t0 + (failAt - 0.1) * 1000));
    const episode = await client.logEpisode({
      ...demo.options,
      name: `${demo.options.name} ${HOSTILE}`,
      failureReason: `${demo.options.failureReason} ${HOSTILE}`,
      metadata,
      ...files,
    });
    root.end(new Date(t0 + 3_000));
    return episode.id;
  });
  await provider.forceFlush();
  await provider.shutdown();
  return { id, failAt };
}

describe('pillars in Chromium', () => {
  it('the insights card of the failed demo episode: reason, track and trace findings, seek, re-run', async () => {
    const { id, failAt } = await failedDemoRollout();
    await page.goto(`${server.baseUrl}/portal/episodes/${id}`);
    const card = page.locator('.insights-card');
    // The page is server-rendered: reload until the analysis queued at finalize has stored its result.
    await expect
      .poll(
        async () => {
          await page.reload();
          return card.getAttribute('data-insights-status');
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe('done');
    // The spans reach Jaeger as the rollout runs; the re-run reads them whatever the finalize-time analysis saw.
    await card.getByRole('button', { name: 'Re-run analysis' }).click();
    await page.waitForURL(`**/portal/episodes/${id}`);
    await expect.poll(() => card.getAttribute('data-insights-status')).toBe('done');
    const rules = await card
      .locator('[data-rule]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-rule')));
    expect(rules).toEqual(expect.arrayContaining(['outcome.reason', 'outcome.time', 'trace.error_span']));
    expect(rules.some((r) => r?.startsWith('track.'))).toBe(true);
    expect(await card.locator('[data-rule="outcome.reason"] strong').textContent()).toContain(HOSTILE);
    expect(await card.locator('[data-rule="trace.error_span"]').textContent()).toContain(
      `grip force lost ${HOSTILE}`,
    );
    await screenshot(page, 'pillars-insights');
    // Beyond the first three, findings fold away; open them, then seek from the failure-time finding.
    const more = card.locator('.more-insights summary');
    if ((await more.count()) > 0) await more.click();
    await card.locator('[data-rule="outcome.time"] [data-insight-seek]').click();
    await page.waitForURL(/\?t=\d+$/);
    expect(new URL(page.url()).searchParams.get('t')).toBe(String(Math.round(failAt * 1000)));
  });

  it('eval list → diff card → compare from a result row; promote from an episode → the verify page', async () => {
    const client = new RoboTrace({ apiKey: server.apiKey, baseUrl: server.baseUrl });
    const baseline = await client.logEpisode({
      name: `baseline ${HOSTILE}`,
      source: 'sim',
      metadata: { outcome: { success: true } },
    });
    const run = await api('/api/ingest/eval-run', {
      candidate_policy_version: `v2 ${HOSTILE}`,
      baseline_episode_ids: [baseline.id],
      name: `nightly ${HOSTILE}`,
    });
    const runId = String(run.eval_run_id);
    const candidate = await client.logEpisode({
      name: `replay ${HOSTILE}`,
      source: 'replay',
      metadata: { eval_run_id: runId, baseline_episode_id: baseline.id },
    });
    await api(`/api/ingest/eval-run/${runId}/result`, {
      baseline_episode_id: baseline.id,
      candidate_episode_id: candidate.id,
      status: 'complete',
      metrics: {
        success_baseline: true,
        success_candidate: true,
        reward_total_baseline: 1,
        reward_total_candidate: 2,
        [HOSTILE]: HOSTILE,
      },
    });
    await api(`/api/ingest/eval-run/${runId}/finalize`, {});

    await page.goto(`${server.baseUrl}/portal/evals`);
    await page.getByRole('link', { name: `nightly ${HOSTILE}` }).click();
    await page.waitForURL(`**/portal/evals/${runId}`);
    const diff = page.locator('.diff-card');
    expect(await diff.locator('[data-recommend]').getAttribute('data-recommend')).toBe('ship');
    expect(
      await diff.locator('[data-metric="reward_mean"] [data-verdict]').getAttribute('data-verdict'),
    ).toBe('better');
    expect(
      await diff.locator('[data-metric="success_rate"] [data-verdict]').getAttribute('data-verdict'),
    ).toBe('tie');
    expect(await page.locator('.eval-results').textContent()).toContain(HOSTILE);
    await screenshot(page, 'pillars-eval');
    await page.getByRole('link', { name: 'Compare' }).click();
    await page.waitForURL('**/portal/compare?**');
    expect(new URL(page.url()).searchParams.get('ids')).toBe(`${baseline.id},${candidate.id}`);
    // The compare page puts the pair on one timeline: both episodes listed, in that order.
    const compared = page.getByRole('list', { name: 'Episodes compared' }).getByRole('link');
    await expect(compared.evaluateAll((as) => as.map((a) => a.getAttribute('href')))).resolves.toEqual([
      `/portal/episodes/${baseline.id}`,
      `/portal/episodes/${candidate.id}`,
    ]);

    // The candidate links back to its run.
    await page.goto(`${server.baseUrl}/portal/episodes/${candidate.id}`);
    await page.locator('[data-eval-run-pill]').click();
    await page.waitForURL(`**/portal/evals/${runId}`);

    // Promote the baseline from its page, critical, with a hostile note; then the gate is blocked for v3.
    await page.goto(`${server.baseUrl}/portal/episodes/${baseline.id}`);
    const promote = page.locator('form.promote-form');
    await promote.getByLabel('Severity').selectOption('critical');
    await promote.getByLabel('Why this matters').fill(`the demo everyone watches ${HOSTILE}`);
    await promote.getByRole('button', { name: 'Promote' }).click();
    await page.waitForURL(`**/portal/episodes/${baseline.id}`);
    expect(await page.locator('[data-promoted]').getAttribute('data-promoted')).toBe('critical');
    const gate = await api('/api/verify/check', { candidate_policy_version: 'v3' });
    expect(gate.passed).toBe(false);
    await page.goto(`${server.baseUrl}/portal/verify?candidate=v3`);
    expect(await page.locator('[data-gate]').getAttribute('data-gate')).toBe('blocked');
    const critical = page.locator('[data-severity="critical"]');
    expect(await critical.textContent()).toContain(`the demo everyone watches ${HOSTILE}`);
    expect(await critical.locator('[data-latest-status]').getAttribute('data-latest-status')).toBe('pending');
    expect(await page.locator('table.checks').textContent()).toContain('v3');
    await screenshot(page, 'pillars-verify');
  });

  it('ran no injected script and tripped no CSP rule', () => {
    expect(watch.dialogs).toEqual([]);
    expect(watch.errors).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });
});
