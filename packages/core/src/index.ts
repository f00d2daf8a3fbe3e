export * from './accounts.js';
export * from './api-keys.js';
export * from './deps.js';
export * from './device-login/index.js';
export * from './episode-view.js';
export * from './episodes.js';
export * from './errors.js';
export * from './evals/runs.js';
export * from './evals/summary.js';
export * from './group-commit.js';
export * from './idempotency.js';
export * from './ids.js';
export * from './ingest-batch.js';
export * from './insights/analyze.js';
export * from './insights/rules.js';
export type * from './insights/types.js';
export * from './lifecycle/index.js';
export * from './lookup.js';
export * from './multipart.js';
export * from './projects.js';
export * from './rate-limit.js';
export * from './storable.js';
export * from './trace-context.js';
export * from './trace-count.js';
export * from './trace-links.js';
export * from './trace-source/align.js';
export * from './trace-source/episode-trace.js';
export {
  type NormalizedEvent,
  type NormalizedSpan,
  type NormalizedTrace,
  normalizeTrace,
  otlpId,
  TraceFormatError,
} from './trace-source/normalize.js';
export { transcodeOtlp } from './trace-source/otlp-transcode.js';
export * from './trace-source/source.js';
export * from './trace-source/span-list.js';
export * from './tracks/index.js';
export * from './unique.js';
export * from './uploads.js';
export * from './users.js';
export * from './verification/scenarios.js';
