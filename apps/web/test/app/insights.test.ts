import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { insightsSettled } from '@robotrace/core';
import { episodeInsight } from '@robotrace/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npz } from '../../../../packages/sdk-ts/src/demo/npz.js';
import { TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { useApp } from '../support/app.js';
import { portal, signIn } from '../support/portal-http.js';

/**
 * Failure insights on the app in process: an episode finalized `failed` with a reason, a sensors NPZ whose
 * gripper column saturates before the failure, and a trace (a loopback OTLP-JSON backend) with an error span is
 * analyzed after the finalize answer; the episode page shows the ranked findings with seek links, escaped;
 * "Re-run analysis" recomputes; a result of an older analyzer version is marked stale.
 */
const hex = (n: number) => randomBytes(n).toString('hex');
const T0 = 1_796_000_000_000_000_000n;
const ns = (ms: number) => String(T0 + BigInt(ms) * 1_000_000n);
let backend: Server;
let backendUrl = '';
let spans: unknown = {};
beforeAll(async () => {
  backend = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(spans));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
});
afterAll(async () => {
  backend.closeAllConnections();
  await new Promise((r) => backend.close(r));
});
const app = useApp(async () => ({
  env: { ROBOTRACE_TRACE_SOURCE: `otlp-json:${backendUrl}/traces/{trace_id}` },
}));
type Json = Record<string, unknown>;
const XSS = '<img src=x onerror=alert(1)>';

/** 50 Hz for 4 s: the gripper moves, then sits at its maximum from 3.2 s to the failure at 3.9 s. */
function sensors(): Uint8Array {
  const n = 200;
  const t = Array.from({ length: n }, (_, i) => BigInt(i) * 20_000_000n);
  const grip = Array.from({ length: n }, (_, i) => (i < 160 ? Math.sin(i / 10) * 0.5 : 1));
  return npz({
    'gripper/width': { dtype: 'float32', shape: [n], data: grip },
    'gripper/_t_ns': { dtype: 'int64', shape: [n], data: t },
  });
}

async function failedEpisode(reason: string): Promise<string> {
  const c = app.current.client();
  const trace = hex(16);
  const root = hex(8);
  const created = await c.post<Json>('/api/ingest/episode', {
    source: 'real',
    name: `pick ${XSS}`,
    request_uploads: ['sensors'],
    otel: { traceparent: `00-${trace}-${root}-01` },
    started_at_unix_ns: ns(0),
  });
  expect(created.status).toBe(201);
  const id = String(created.body.episode_id);
  spans = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'planner' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: trace,
                spanId: root,
                name: 'rollout',
                kind: 1,
                startTimeUnixNano: ns(0),
                endTimeUnixNano: ns(4000),
              },
              {
                traceId: trace,
                spanId: hex(8),
                parentSpanId: root,
                name: `grasp ${XSS}`,
                kind: 1,
                startTimeUnixNano: ns(3500),
                endTimeUnixNano: ns(3700),
                status: { code: 2, message: `gripper timeout ${XSS}` },
              },
            ],
          },
        ],
      },
    ],
  };
  const [slot] = created.body.upload_urls as { url: string }[];
  const put = await fetch(slot?.url ?? '', {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from(sensors()),
  });
  expect(put.status).toBe(200);
  const done = await c.post<Json>(`/api/ingest/episode/${id}/finalize`, {
    status: 'failed',
    duration_s: 4,
    failure_time_s: 3.9,
    metadata: { failure_reason: reason },
  });
  expect(done.status).toBe(200);
  return id;
}

describe('failure insights', () => {
  it('a failed finalize is analyzed off the request: reason, time, saturated track, error span — ranked, escaped, seekable', async () => {
    const id = await failedEpisode(`dropped the cube ${XSS}`);
    await insightsSettled();
    const [row] = await app.current.services.core.db
      .select()
      .from(episodeInsight)
      .where(eq(episodeInsight.episodeId, id));
    expect(row?.status).toBe('done');
    const findings = row?.findings as Json[];
    const rules = findings.map((f) => f.rule);
    expect(rules).toEqual(
      expect.arrayContaining(['outcome.reason', 'outcome.time', 'track.saturated', 'trace.error_span']),
    );
    const confidences = findings.map((f) => Number(f.confidence));
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    const saturated = findings.find((f) => f.rule === 'track.saturated');
    expect(saturated?.track).toBe('gripper/width');
    expect(Number(saturated?.seek_s)).toBeCloseTo(3.2, 1);

    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const page = await portal(app.current.baseUrl, user, `/portal/episodes/${id}`);
    expect(page.html).toContain('id="insights-title"');
    expect(page.html).not.toContain('<img src=x');
    expect(page.html).toContain('Reported failure: dropped the cube &lt;img src=x onerror=alert(1)&gt;');
    expect(page.html).toContain(`href="/portal/episodes/${id}?t=3900"`);
    expect(page.html).toContain('gripper timeout &lt;img');
    expect(page.html).not.toContain('data-insights-stale');
  });

  it('Re-run analysis recomputes (and clears the stale mark); a cross-site post is refused', async () => {
    const id = await failedEpisode('slipped');
    await insightsSettled();
    const db = app.current.services.core.db;
    await db
      .update(episodeInsight)
      .set({ analyzerVersion: 0, findings: [] })
      .where(eq(episodeInsight.episodeId, id));
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    const stale = await portal(app.current.baseUrl, user, `/portal/episodes/${id}`);
    expect(stale.html).toContain('data-insights-stale');
    const rerun = await portal(app.current.baseUrl, user, `/portal/episodes/${id}/insights`, {});
    expect(rerun.status).toBe(303);
    const fresh = await portal(app.current.baseUrl, user, `/portal/episodes/${id}`);
    expect(fresh.html).not.toContain('data-insights-stale');
    expect(fresh.html).toContain('Reported failure: slipped');

    const forged = await fetch(`${app.current.baseUrl}/portal/episodes/${id}/insights`, {
      method: 'POST',
      headers: {
        cookie: user.cookie,
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: '',
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
  });

  it('a ready episode is not analyzed and shows no Insights card', async () => {
    const c = app.current.client();
    const created = await c.post<Json>('/api/ingest/episode', { source: 'sim', name: 'fine' });
    const id = String(created.body.episode_id);
    await c.post(`/api/ingest/episode/${id}/finalize`, { status: 'ready', duration_s: 1 });
    await insightsSettled();
    const rows = await app.current.services.core.db
      .select()
      .from(episodeInsight)
      .where(eq(episodeInsight.episodeId, id));
    expect(rows).toEqual([]);
    const user = await signIn(app.current.baseUrl, TEST_EMAIL, TEST_PASSWORD);
    expect((await portal(app.current.baseUrl, user, `/portal/episodes/${id}`)).html).not.toContain(
      'id="insights-title"',
    );
  });
});
