// Load as the SDKs send it: every request carries a fresh Idempotency-Key (a UUID, as both SDKs make one per
// call) and the SDKs' headers. autocannon's CLI sends fixed headers only, so this drives it programmatically,
// in its own process like bench/lib.ts's loadTest, and prints the same JSON (autocannon's result).
// Usage: node --import tsx bench/ingest/keyed-load.ts '<json LoadOptions>'
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { LoadOptions } from '../lib.js';

/** `freshKey: false` sends the same requests without the key: the same generator, so keyed ÷ plain is fair. */
const o = JSON.parse(process.argv[2] ?? '{}') as LoadOptions & { freshKey?: boolean };
const fresh = o.freshKey !== false;
const autocannon = createRequire(import.meta.url)('autocannon') as (
  opts: Record<string, unknown>,
  done: (err: unknown, result: unknown) => void,
) => void;

autocannon(
  {
    url: o.url,
    connections: o.connections,
    duration: o.duration,
    ...(o.rate ? { overallRate: o.rate } : {}),
    requests: [
      {
        method: o.method,
        headers: o.headers,
        body: o.body,
        setupRequest: (req: { headers: Record<string, string> }) => ({
          ...req,
          headers: fresh ? { ...req.headers, 'idempotency-key': randomUUID() } : req.headers,
        }),
      },
    ],
  },
  (err, result) => {
    if (err) {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
);
