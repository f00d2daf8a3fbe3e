// The one load generator of bench/ingest's create rows, for our server and the bare baseline alike, so a
// ratio compares servers and not generators: programmatic autocannon, in its own process like bench/lib.ts's
// loadTest, printing autocannon's JSON result. With `freshKey` every request carries a fresh Idempotency-Key
// as both SDKs send one per call. The request's bytes are built once with a fixed-length placeholder key, and
// each send writes a new key over the placeholder in a copy: autocannon's own idReplacement rebuilds the whole
// request (headers, string replaces, a new Buffer) for every send, which cost this generator ~30–50 µs per keyed
// request on the 2 cores the servers share (measured: ~75–105 µs plain, ~125–135 µs with idReplacement), i.e.
// it slowed the keyed rows by the generator's work, not the server's. A server that ignores the header (the bare
// baseline) pays nothing for it.
// Usage: node --import tsx bench/ingest/keyed-load.ts '<json LoadOptions & { freshKey?: boolean }>'
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { LoadOptions } from '../lib.js';

const o = JSON.parse(process.argv[2] ?? '{}') as LoadOptions & { freshKey?: boolean };
const fresh = o.freshKey !== false;
const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (
  opts: Record<string, unknown>,
  done: (err: unknown, result: unknown) => void,
) => void;

// Keys are this process's random prefix and a counter: unique per request and across runs, 32 characters.
const PLACEHOLDER = Buffer.from('k'.repeat(32));
const prefix = randomBytes(8).toString('hex');
let counter = 0;
if (fresh) {
  const { prototype } = require('autocannon/lib/httpClient.js') as {
    prototype: {
      requestIterator: { currentRequest: { requestBuffer: Buffer } };
      getRequestBuffer: () => Buffer;
    };
  };
  const offsets = new WeakMap<Buffer, number>();
  prototype.getRequestBuffer = function getRequestBuffer() {
    const template = this.requestIterator.currentRequest.requestBuffer;
    let at = offsets.get(template);
    if (at === undefined) {
      at = template.indexOf(PLACEHOLDER);
      if (at === -1) throw new Error('the Idempotency-Key placeholder is not in the request');
      offsets.set(template, at);
    }
    const request = Buffer.from(template);
    request.write(`${prefix}${(counter++).toString(16).padStart(16, '0')}`, at, 'latin1');
    return request;
  };
}

autocannon(
  {
    url: o.url,
    method: o.method,
    headers: fresh ? { ...o.headers, 'idempotency-key': PLACEHOLDER.toString() } : o.headers,
    body: o.body,
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
