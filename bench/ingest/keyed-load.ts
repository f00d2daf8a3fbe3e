// The one load generator of bench/ingest's create rows, for our server and the bare baseline alike, so a
// ratio compares servers and not generators: programmatic autocannon, in its own process like bench/lib.ts's
// loadTest, printing autocannon's JSON result. With `freshKey` every request carries a fresh Idempotency-Key
// as both SDKs send one per call: autocannon's idReplacement writes a new id into the `[<id>]` placeholder of
// each request's bytes (cheaper than rebuilding the request in a setupRequest callback, which capped this
// generator near 1.5k req/s). A server that ignores the header (the bare baseline) pays nothing for it.
// Usage: node --import tsx bench/ingest/keyed-load.ts '<json LoadOptions & { freshKey?: boolean }>'
import { createRequire } from 'node:module';
import type { LoadOptions } from '../lib.js';

const o = JSON.parse(process.argv[2] ?? '{}') as LoadOptions & { freshKey?: boolean };
const fresh = o.freshKey !== false;
const autocannon = createRequire(import.meta.url)('autocannon') as (
  opts: Record<string, unknown>,
  done: (err: unknown, result: unknown) => void,
) => void;

autocannon(
  {
    url: o.url,
    method: o.method,
    headers: fresh ? { ...o.headers, 'idempotency-key': '[<id>]' } : o.headers,
    body: o.body,
    idReplacement: fresh,
    connections: o.connections,
    duration: o.duration,
    ...(o.rate ? { overallRate: o.rate } : {}),
  },
  (err, result) => {
    if (err) {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
);
