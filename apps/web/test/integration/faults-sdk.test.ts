import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSdkVenv, runPython, VENV_SETUP_MS } from '../../../../test/faults/support.js';
import { startServer, type TestServer } from '../../../../test/support/server.js';

/**
 * Faults seen from the Python SDK (test/faults/sdk_faults.py): the server is down, and OpenTelemetry raises
 * inside the SDK. A training loop must get its answer within the SDK's budget, and never an OTel exception.
 */
let files: string;

beforeAll(() => {
  ensureSdkVenv();
  files = mkdtempSync(join(tmpdir(), 'robotrace-faults-'));
  writeFileSync(join(files, 'video.mp4'), randomBytes(4096));
}, VENV_SETUP_MS);
afterAll(() => {
  if (files) rmSync(files, { recursive: true, force: true });
});

describe('fault: the server is down', () => {
  it('log_episode raises within its timeout budget with a one-line message', async () => {
    const run = runPython('sdk_faults.py', ['down', '--files', files]);
    expect(await run.exited(60_000), run.stderr()).toBe(0);
    const cases: Record<string, Record<string, unknown>> = Object.fromEntries(
      run.events.map((e) => [String(e.case), e]),
    );
    expect(Object.keys(cases).sort()).toEqual(['hung', 'refused']);
    // A refused connection is a TransportError; a server that never answers is its subclass TimeoutError.
    expect(cases.refused).toMatchObject({ raised: 'TransportError' });
    expect(cases.hung).toMatchObject({ raised: 'TimeoutError' });
    for (const c of Object.values(cases)) {
      expect(c, JSON.stringify(c)).toMatchObject({ ok: true, one_line: true });
      // The budget: 4 attempts x 1 s timeout + backoff ceilings (1 + 2 + 4 s) = 11 s; slack for a busy CI box.
      expect(Number(c.s), JSON.stringify(c)).toBeLessThan(Number(c.budget_s) + 5);
      expect(String(c.message)).toMatch(/^POST \/api\/ingest\/episode failed after 4 tries: /);
    }
    expect(String(cases.refused?.message)).toMatch(/Connection refused/);
    expect(String(cases.hung?.message)).toMatch(/Timeout/);
  }, 90_000);
});

describe('fault: OpenTelemetry raises inside the SDK', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.stop());

  it('never reaches the caller: every episode is logged, with or without its trace block', async () => {
    const run = runPython('sdk_faults.py', [
      'otel',
      '--files',
      files,
      '--base-url',
      server.baseUrl,
      '--api-key',
      server.apiKey,
    ]);
    expect(await run.exited(90_000), run.stderr()).toBe(0);
    expect(run.events.map((e) => e.case)).toEqual([
      'baseline',
      'get_span_context raises',
      'get_current_span raises',
      'span context holds garbage',
      'tracestate.to_header raises',
      'back-link set_attribute raises',
      'back-link is_recording raises',
      'async get_span_context raises',
    ]);
    for (const e of run.events) {
      expect(e, JSON.stringify(e)).toMatchObject({ ok: true, status: 'ready', sent_block: e.expect_block });
      if (e.stored_trace_id !== undefined)
        expect(e.stored_trace_id, JSON.stringify(e)).toBe(e.expect_block ? e.span_trace_id : null);
    }
    // The SDK's debug log may mention the failure; stderr must not carry a traceback of ours.
    expect(run.stderr()).not.toMatch(/Traceback/);
  }, 120_000);
});
