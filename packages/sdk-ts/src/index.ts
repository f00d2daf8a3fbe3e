export {
  type EpisodeFields,
  type LogEpisodeOptions,
  RoboTrace,
  type RoboTraceClientOptions,
  type StartEpisodeOptions,
} from './client.js';
export type { OtelOptions, ResolvedConfig, RoboTraceOptions } from './config.js';
export { credentialsPath } from './credentials.js';
export { Episode, type FailOptions, type FinishOptions, type UploadOptions } from './episode.js';
export {
  APIError,
  ArgumentError,
  AuthError,
  ConfigurationError,
  ConflictError,
  NotFoundError,
  RateLimitError,
  RobotraceError,
  ServerError,
  TimeoutError,
  TransportError,
  URLExpiredError,
  ValidationError,
} from './errors.js';
export type { Downloaded } from './export.js';
export { parseTraceLookup, type TraceLookup } from './lookup.js';
export { captureTraceContext } from './otel/active.js';
export { otelBlockFromSpanContext, type SpanContextLike } from './otel/capture.js';
export type { ProgressListener, UploadProgress } from './upload.js';
export { SDK_VERSION } from './version.js';
export type {
  ArtifactKind,
  ArtifactRecord,
  DeleteEpisodeResult,
  EpisodePage,
  EpisodeRecord,
  EpisodeReference,
  EpisodeReferences,
  EpisodeSource,
  EpisodeStatus,
  ExportEpisodesQuery,
  ExportedArtifact,
  ExportedEpisode,
  JsonObject,
  ListEpisodesQuery,
  OtelBlock,
  UploadUrl,
} from './wire.js';
