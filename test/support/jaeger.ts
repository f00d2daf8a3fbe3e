import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './postgres.js';

export interface TestJaeger {
  /** OTLP/HTTP receiver, e.g. http://127.0.0.1:40123 (POST /v1/traces). */
  otlpHttp: string;
  /** Query service base URL: /api/v3/traces/{id} (OTLP JSON) and the classic /api/traces/{id}. */
  query: string;
  stop: () => Promise<void>;
}

/**
 * A real Jaeger v2 (in-memory storage) on free loopback ports. The binary is built once from the Go module proxy by
 * scripts/setup-jaeger.sh into .cache/jaeger (≈ 4 min on a fresh machine; nothing afterwards). Every listener is
 * pinned to 127.0.0.1 and a free port, so tests never collide with each other or with a Jaeger on the machine.
 */
export async function startJaeger(): Promise<TestJaeger> {
  await promisify(execFile)('bash', ['scripts/setup-jaeger.sh'], { encoding: 'utf8', timeout: 900_000 });
  const [otlpHttp, otlpGrpc, query, queryGrpc, health] = await Promise.all(
    [1, 2, 3, 4, 5].map(() => freePort()),
  );
  const dir = mkdtempSync(join(tmpdir(), 'robotrace-jaeger-'));
  const config = join(dir, 'jaeger.yaml');
  writeFileSync(
    config,
    `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${query}
    grpc:
      endpoint: 127.0.0.1:${queryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${health}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${otlpGrpc}
      http:
        endpoint: 127.0.0.1:${otlpHttp}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`,
  );
  const child = spawn('.cache/jaeger/jaeger', ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      // Jaeger drains its pipelines on SIGTERM; a test that stops it wants it gone, not drained.
      const hard = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(hard);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${health}/status`);
      const q = await fetch(`http://127.0.0.1:${query}/api/services`);
      if (res.ok && q.ok) break;
    } catch {
      // not listening yet
    }
    if (i >= 300 || child.exitCode !== null) {
      await stop();
      throw new Error(`Jaeger did not start: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { otlpHttp: `http://127.0.0.1:${otlpHttp}`, query: `http://127.0.0.1:${query}`, stop };
}
