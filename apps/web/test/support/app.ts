import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@robotrace/core';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { api } from '../../../../test/support/api.js';
import { responseViolation } from '../../../../test/support/route-check.js';
import { TEST_API_KEY, TEST_EMAIL, TEST_PASSWORD } from '../../../../test/support/server.js';
import { createApp } from '../../src/app.js';
import { bootstrap } from '../../src/bootstrap.js';
import { type Env, loadEnv } from '../../src/env.js';
import { type Logger, redactUrl } from '../../src/log.js';
import { createPortal } from '../../src/portal/index.js';
import { createServices, type Services } from '../../src/services.js';

/**
 * The in-process tier: the app built from its services (the composition root, the portal, createApp) on a
 * temporary PGlite (or a PostgreSQL database) and temp-dir local storage, served by one node:http server on
 * port 0 in the test's own process. No build, no spawned server. Every /api response it sends is checked
 * against its route's schema for that status (a mismatch fails the test that caused it).
 */
export interface TestApp {
  baseUrl: string;
  apiKey: string;
  dataDir: string;
  env: Env;
  services: Services;
  /** What the app logged, one line per event (string fields redacted as the real logger does). */
  output: () => string;
  /** Responses that did not match their route's schema since the last call (`stop` throws on any left). */
  takeViolations: () => string[];
  /** Another project with its own API key (the headless bootstrap again, as an operator would run it). */
  addProject: (name: string, apiKey: string) => Promise<void>;
  client: (apiKey?: string) => ReturnType<typeof api>;
  stop: () => Promise<void>;
}

export interface AppOptions {
  /** Server env beyond the defaults (the headless bootstrap of project `demo` with TEST_API_KEY). */
  env?: Record<string, string>;
  /** The clock core reads (rate-limit refills, key expiry, retention) instead of the system's. */
  clock?: Clock;
}

/** A clock that moves only when told: refills and expiries without waiting. */
export class ManualClock implements Clock {
  constructor(private ms = Date.now()) {}
  now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

function captureLogger(lines: string[]): Logger {
  const emit = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    const extra = Object.entries(fields ?? {})
      .map(([k, v]) => `${k}=${JSON.stringify(typeof v === 'string' ? redactUrl(v) : v)}`)
      .join(' ');
    lines.push(`${level} ${msg} ${extra}`.trim());
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** Records what each /api response sent, for the schema check once it has finished. */
function checking(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  violations: string[],
): (req: IncomingMessage, res: ServerResponse) => void {
  const LIMIT = 4 * 1024 * 1024;
  return (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown) => {
      if (size > LIMIT || chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string | Uint8Array);
      size += b.length;
      if (size <= LIMIT) chunks.push(b);
    };
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return (end as (...a: unknown[]) => ServerResponse)(chunk, ...rest);
    }) as typeof res.end;
    res.once('finish', () => {
      if (size > LIMIT) return; // an artifact download: bytes, not a schema's business
      const contentType = res.getHeader('content-type');
      const problem = responseViolation(
        req.method ?? 'GET',
        req.url ?? '/',
        res.statusCode,
        typeof contentType === 'string' ? contentType : undefined,
        Buffer.concat(chunks).toString('utf8'),
      );
      if (problem) violations.push(problem);
    });
    void handler(req, res);
  };
}

export async function startApp(options: AppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'robotrace-app-'));
  // The migrated template of the tier's global setup (test/support/pglite-template.ts): no initdb per app.
  const template = inject('pgliteTemplate');
  if (template && !options.env?.DATABASE_URL)
    cpSync(join(template, 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
  const env = loadEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    ROBOTRACE_DATA_DIR: dataDir,
    ROBOTRACE_INIT_EMAIL: TEST_EMAIL,
    ROBOTRACE_INIT_PASSWORD: TEST_PASSWORD,
    ROBOTRACE_INIT_PROJECT: 'demo',
    ROBOTRACE_INIT_API_KEY: TEST_API_KEY,
    ROBOTRACE_MIGRATE_ON_START: '1',
    ROBOTRACE_LOG_LEVEL: 'debug',
    ...options.env,
  });
  const lines: string[] = [];
  const log = captureLogger(lines);
  const services = await createServices(env, log, options.clock);
  await bootstrap(services.dbh.db, env, log);
  const violations: string[] = [];
  const server: Server = createServer(
    { maxHeaderSize: 64 * 1024 },
    checking(createApp(services, createPortal(services)), violations),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    apiKey: env.ROBOTRACE_INIT_API_KEY ?? TEST_API_KEY,
    dataDir,
    env,
    services,
    output: () => lines.join('\n'),
    takeViolations: () => violations.splice(0),
    addProject: (name, apiKey) =>
      bootstrap(
        services.dbh.db,
        { ...env, ROBOTRACE_INIT_PROJECT: name, ROBOTRACE_INIT_API_KEY: apiKey },
        log,
      ),
    client: (apiKey = env.ROBOTRACE_INIT_API_KEY) => api(baseUrl, apiKey),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close();
      rmSync(dataDir, { recursive: true, force: true });
      // A file that starts its app itself (not useApp) still fails on a response off its schema.
      if (violations.length > 0) throw new Error(`responses off their schema:\n${violations.join('\n')}`);
    },
  };
}

/**
 * One app for the enclosing describe (or file): started before its tests, stopped after them, and every
 * test fails when a response it caused did not match its route's schema. Read `.current` inside tests.
 */
export function useApp(options: AppOptions | (() => Promise<AppOptions>) = {}): { current: TestApp } {
  const holder = {} as { current: TestApp };
  beforeAll(async () => {
    holder.current = await startApp(typeof options === 'function' ? await options() : options);
  });
  afterEach(() => {
    expect(holder.current?.takeViolations() ?? []).toEqual([]);
  });
  afterAll(async () => {
    await holder.current?.stop();
  });
  return holder;
}
