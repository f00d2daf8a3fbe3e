// What every create row of bench/ingest sends, to our server and to the bare baseline alike.

/** A create as the SDKs make it: name, policy version, seed, metadata and the caller's trace context. */
export const INGEST_BODY = JSON.stringify({
  source: 'sim',
  name: 'bench-episode',
  policy_version: 'pi-0.3.1',
  seed: 7,
  metadata: { task: 'pick', success: true },
  otel: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
});

/** What both SDKs send besides the key (packages/sdk-ts transport.ts; the Python SDK sends the same two). */
export const SDK_HEADERS = {
  accept: 'application/json',
  'user-agent': `robotrace-ts/0.1.0 node/${process.versions.node} ${process.platform}/${process.arch}`,
  'x-robotrace-sdk-version': '0.1.0',
};
