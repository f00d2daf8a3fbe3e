import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { type ResolvedConfig, type RoboTraceOptions, resolveConfig } from './config.js';
import { Episode, type EpisodeBackend } from './episode.js';
import { RobotraceError } from './errors.js';
import { type Downloaded, download, jsonLines } from './export.js';
import { Transport } from './http/transport.js';
import { type CapturedTrace, captureActiveSpan, linkSpanToEpisode } from './otel/active.js';
import { deliveryBackend, spoolStoreFor } from './spool/backend.js';
import { type PartBody, uploadInPartsNow } from './spool/multipart.js';
import { newRecordId } from './spool/record.js';
import { SpoolWorker } from './spool/worker.js';
import { fileSize, fileSizeSync, type ProgressListener, uploadFile, uploadPart } from './upload.js';
import {
  checkFinalStatus,
  checkInteger,
  checkMetadata,
  checkNonNegative,
  checkPath,
  checkSource,
  checkText,
  fail,
  MAX_TEXT_LENGTH,
} from './validate.js';
import { SDK_VERSION } from './version.js';
import {
  ARTIFACT_KINDS,
  type ArtifactKind,
  type CreateEpisodeBody,
  type CreateEpisodeResult,
  type DeleteEpisodeResult,
  type EpisodePage,
  type EpisodeRecord,
  type EpisodeSource,
  type ExportEpisodesQuery,
  type ExportedArtifact,
  type ExportedEpisode,
  type FinalizeEpisodeBody,
  type JsonObject,
  type ListEpisodesQuery,
  type OtelBlock,
  type UploadUrl,
} from './wire.js';

/** The reproducibility facts of an episode (all optional except that `source` defaults to "real"). */
export interface EpisodeFields {
  name?: string;
  source?: EpisodeSource;
  robot?: string;
  policyVersion?: string;
  envVersion?: string;
  gitSha?: string;
  seed?: number;
  fps?: number;
  /**
   * Free-form JSON. `metadata.otel` is special: `null` means "attach no trace context", an object is sent
   * instead of the active span's context.
   */
  metadata?: JsonObject;
}

export interface StartEpisodeOptions extends EpisodeFields {
  /** Upload slots to request (default: all three). */
  artifacts?: ArtifactKind[];
}

export interface LogEpisodeOptions extends EpisodeFields {
  /** Paths of files to upload, streamed from disk. */
  video?: string;
  sensors?: string;
  actions?: string;
  durationS?: number;
  /** Final status (default "ready"). */
  status?: 'ready' | 'failed';
  failureTimeS?: number;
  /** Stored at `metadata.failure_reason` when status is "failed". */
  failureReason?: string;
  onProgress?: ProgressListener;
}

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface RoboTraceClientOptions extends RoboTraceOptions {
  /** Where the portal URL line goes (default `process.stdout`, like the Python SDK); printed only on a TTY. */
  output?: Output;
}

/**
 * The RoboTrace client. Configuration comes from the options, then `ROBOTRACE_*` environment variables, then
 * `~/.robotrace/credentials`; a missing key fails here with a message saying how to set one.
 */
export class RoboTrace {
  // Private fields: `console.log(rt)` must never print the API key.
  readonly #config: ResolvedConfig;
  readonly #backend: EpisodeBackend;
  readonly #transport: Transport;
  readonly #fetch: typeof fetch;
  readonly #userAgent: string;
  readonly #output: Output;
  readonly #worker: SpoolWorker | undefined;

  constructor(options: RoboTraceClientOptions = {}) {
    this.#config = resolveConfig(options);
    this.#fetch = options.fetch ?? globalThis.fetch;
    const suffix = options.userAgentSuffix ? ` ${options.userAgentSuffix}` : '';
    this.#userAgent = `robotrace-ts/${SDK_VERSION} node/${process.versions.node} ${process.platform}/${process.arch}${suffix}`;
    this.#output = options.output ?? process.stdout;
    this.#transport = new Transport({
      apiKey: this.#config.apiKey,
      baseUrl: this.#config.baseUrl,
      timeoutMs: this.#config.timeoutMs,
      maxRetries: this.#config.maxRetries,
      userAgent: this.#userAgent,
      sdkVersion: SDK_VERSION,
      fetch: this.#fetch,
    });
    this.#backend = {
      uploadArtifact: (kind, path, url, onProgress) => this.#uploadArtifact(kind, path, url, onProgress),
      uploadInParts: (episodeId, kind, path, onProgress) =>
        this.#uploadInParts(episodeId, kind, path, onProgress),
      finalizeEpisode: (id, body) => this.#finalizeEpisode(id, body),
      refreshUploadUrl: (id, kind) =>
        this.#transport.json<UploadUrl>({
          method: 'POST',
          path: `/api/ingest/episode/${encodeURIComponent(id)}/upload-url`,
          body: { kind },
          what: `refresh ${kind} upload URL`,
        }),
    };
    if (this.#config.delivery === 'background') this.#worker = this.#startWorker(options);
  }

  /**
   * Background delivery: delivers what is spooled now, waiting at most `timeoutMs` (default 30 000; undefined
   * waits until done). Resolves true when nothing is left waiting; never rejects. Blocking delivery: true.
   */
  flush(timeoutMs: number | undefined = 30_000): Promise<boolean> {
    return this.#worker ? this.#worker.flush(timeoutMs) : Promise.resolve(true);
  }

  /** Background delivery: flushes for at most `flushTimeoutMs`, then stops the worker. Safe to call twice. */
  close(): Promise<boolean> {
    return this.#worker ? this.#worker.close(this.#config.flushTimeoutMs) : Promise.resolve(true);
  }

  get baseUrl(): string {
    return this.#config.baseUrl;
  }

  /** The resolved configuration (API key included; do not log it). */
  get config(): ResolvedConfig {
    return { ...this.#config };
  }

  /**
   * Creates an episode, uploads its files, finalizes it and returns it. The trace context is the span active
   * when this is called. If an upload fails, the episode is finalized "failed" with the reason and the error
   * is thrown. With `delivery: 'background'` it resolves once the episode is spooled (its `id` and `url` fill
   * in when delivered: `await episode.delivered()`) and never rejects for a delivery problem; arguments are
   * still checked.
   */
  async logEpisode(options: LogEpisodeOptions): Promise<Episode> {
    const calledAtMs = Date.now(); // the run has just ended: it started durationS before this
    const trace = this.#capture();
    const body = episodeBody(options, trace?.block);
    const status = checkFinalStatus(options.status);
    const durationS = checkNonNegative('durationS', options.durationS);
    const startedAt = durationS === undefined ? undefined : unixNs(calledAtMs, durationS);
    if (startedAt !== undefined) body.started_at_unix_ns = startedAt;
    const failureTimeS = checkNonNegative('failureTimeS', options.failureTimeS);
    const failureReason = checkText('failureReason', options.failureReason, 10_000);
    if (status !== 'failed' && (failureTimeS !== undefined || failureReason !== undefined)) {
      fail('failureTimeS and failureReason need status: "failed"');
    }
    const files: Array<[ArtifactKind, string, number]> = [];
    for (const kind of ARTIFACT_KINDS) {
      const path = checkPath(kind, options[kind]);
      if (path !== undefined)
        files.push([kind, path, this.#worker ? fileSizeSync(path, kind) : await fileSize(path, kind)]);
    }
    body.request_uploads = files.map(([kind]) => kind);
    if (this.#worker) {
      const final: FinalizeEpisodeBody = {
        status,
        bytes_total: files.reduce((sum, [, , size]) => sum + size, 0),
      };
      if (durationS !== undefined) final.duration_s = durationS;
      if (body.fps !== undefined) final.fps = body.fps;
      if (status === 'failed') {
        if (failureTimeS !== undefined) final.failure_time_s = failureTimeS;
        final.metadata = { failure_reason: failureReason ?? 'failed' };
      }
      return this.#spool(body, final, files);
    }

    const episode = await this.#create(body, trace, false);
    for (const [kind, path] of files) {
      try {
        await episode.upload(kind, path, options.onProgress ? { onProgress: options.onProgress } : {});
      } catch (error) {
        await episode.fail(`upload of ${kind} failed: ${(error as Error).message}`).catch(() => undefined);
        throw error;
      }
    }
    const finish = { durationS, fps: body.fps };
    if (status === 'failed') await episode.fail(failureReason ?? 'failed', { ...finish, failureTimeS });
    else await episode.finish(finish);
    return episode;
  }

  /**
   * Creates an episode now (capturing the span active now) and returns a handle to upload files and finish it.
   * The trace context never changes afterwards, whichever span is active when it finishes.
   */
  async startEpisode(options: StartEpisodeOptions = {}): Promise<Episode> {
    const startedAt = unixNs(Date.now(), 0);
    const trace = this.#capture();
    const body = episodeBody(options, trace?.block);
    if (startedAt !== undefined) body.started_at_unix_ns = startedAt;
    const artifacts = options.artifacts ?? [...ARTIFACT_KINDS];
    if (!Array.isArray(artifacts) || artifacts.some((kind) => !ARTIFACT_KINDS.includes(kind))) {
      fail(`artifacts must list kinds among ${ARTIFACT_KINDS.join(', ')}`);
    }
    body.request_uploads = [...new Set(artifacts)];
    return this.#create(body, trace, true);
  }

  /** `GET /api/episodes/{id}`. */
  getEpisode(id: string): Promise<EpisodeRecord> {
    if (typeof id !== 'string' || id.trim() === '') fail('episode id must be a non-empty string');
    return this.#transport.json<EpisodeRecord>({
      method: 'GET',
      path: `/api/episodes/${encodeURIComponent(id.trim())}`,
      what: 'get episode',
    });
  }

  /** One page of `GET /api/episodes` (newest first). */
  listEpisodes(query: ListEpisodesQuery = {}): Promise<EpisodePage> {
    return this.#transport.json<EpisodePage>({
      method: 'GET',
      path: '/api/episodes',
      query: { ...query },
      what: 'list episodes',
    });
  }

  /** Every episode matching the query, following cursors. */
  async *iterateEpisodes(query: ListEpisodesQuery = {}): AsyncGenerator<EpisodeRecord> {
    let cursor = query.cursor;
    do {
      const page = await this.listEpisodes({ ...query, cursor });
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  /**
   * `DELETE /api/episodes/{id}`: the episode, its artifacts in storage, its track index and insights. An episode
   * an eval run or a verification scenario references is refused (`ConflictError`, code `episode_referenced`,
   * `details: {eval_runs, scenarios}`) unless `unlinkReferences` removes those links too. An unknown or already
   * deleted id is a `NotFoundError`. Retried with one Idempotency-Key, so a lost answer never turns a delete
   * into a 404.
   */
  deleteEpisode(id: string, options: { unlinkReferences?: boolean } = {}): Promise<DeleteEpisodeResult> {
    if (typeof id !== 'string' || id.trim() === '') fail('episode id must be a non-empty string');
    return this.#transport.json<DeleteEpisodeResult>({
      method: 'DELETE',
      path: `/api/episodes/${encodeURIComponent(id.trim())}`,
      query: options.unlinkReferences ? { unlink_references: 'true' } : undefined,
      idempotencyKey: randomUUID(),
      what: 'delete episode',
    });
  }

  /**
   * Every episode matching the filters (those of `listEpisodes`, without paging), streamed from
   * `GET /api/episodes/export` one at a time: every field, and each file's absolute download URL.
   */
  async *exportEpisodes(filters: ExportEpisodesQuery = {}): AsyncGenerator<ExportedEpisode> {
    const what = 'export episodes';
    const response = await this.#transport.stream(
      { method: 'GET', path: '/api/episodes/export', query: { ...filters }, what },
      'application/x-ndjson',
    );
    yield* jsonLines<ExportedEpisode>(response.body, what, this.#config.timeoutMs);
  }

  /**
   * Downloads one exported artifact to `<dir>/<episode_id>/<kind><ext>` (the extension from its content type
   * or its first bytes) and resolves with where it went. The API key goes to this server's origin only.
   */
  async downloadArtifact(episodeId: string, artifact: ExportedArtifact, dir: string): Promise<Downloaded> {
    // Both become path parts: an answer must not be able to write outside `dir` (`../`, a slash).
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(episodeId) || !ARTIFACT_KINDS.includes(artifact.kind))
      throw new RobotraceError(`export: refusing to write artifact ${artifact.kind} of episode ${episodeId}`);
    const folder = join(dir, episodeId);
    await mkdir(folder, { recursive: true });
    return download({
      url: new URL(artifact.url, `${this.#config.baseUrl}/`).toString(),
      base: join(folder, artifact.kind),
      contentType: artifact.content_type,
      fetch: this.#fetch,
      headersFor: (url) => this.#transport.downloadHeaders(url),
      idleTimeoutMs: this.#config.uploadTimeoutMs,
      maxRetries: this.#config.maxRetries,
      what: `download of ${artifact.kind} of episode ${episodeId}`,
    });
  }

  /** The portal page of an episode. */
  portalUrl(episodeId: string): string {
    return `${this.#config.baseUrl}/portal/episodes/${encodeURIComponent(episodeId)}`;
  }

  #uploadArtifact(
    kind: ArtifactKind,
    path: string,
    url: string,
    onProgress?: ProgressListener,
  ): Promise<number> {
    return uploadFile({
      kind,
      path,
      url: new URL(url, `${this.#config.baseUrl}/`).toString(),
      fetch: this.#fetch,
      idleTimeoutMs: this.#config.uploadTimeoutMs,
      maxRetries: this.#config.maxRetries,
      userAgent: this.#userAgent,
      onProgress,
    });
  }

  /** Blocking delivery of a file from the multipart threshold on: in resumable parts (spool/multipart.ts). */
  async #uploadInParts(
    episodeId: string,
    kind: ArtifactKind,
    path: string,
    onProgress?: ProgressListener,
  ): Promise<number | null> {
    const size = await fileSize(path, kind);
    if (size < this.#config.multipartThresholdBytes) return null;
    const send = (url: string, part: PartBody) =>
      uploadPart({
        kind,
        url: new URL(url, `${this.#config.baseUrl}/`).toString(),
        fetch: this.#fetch,
        idleTimeoutMs: this.#config.uploadTimeoutMs,
        maxRetries: this.#config.maxRetries,
        userAgent: this.#userAgent,
        ...part,
      });
    const report = onProgress
      ? (sentBytes: number) => onProgress({ kind, path, sentBytes, totalBytes: size })
      : undefined;
    return uploadInPartsNow(this.#transport, episodeId, { kind, path, size }, send, report);
  }

  #finalizeEpisode(id: string, body: FinalizeEpisodeBody): Promise<EpisodeRecord> {
    return this.#transport.json<EpisodeRecord>({
      method: 'POST',
      path: `/api/ingest/episode/${encodeURIComponent(id)}/finalize`,
      body,
      idempotencyKey: randomUUID(),
      what: 'finalize episode',
    });
  }

  #startWorker(options: RoboTraceClientOptions): SpoolWorker {
    return new SpoolWorker(
      spoolStoreFor(this.#config),
      deliveryBackend(this.#config, this.#userAgent, options.fetch),
      this.#config.flushTimeoutMs,
      options.logger ?? console,
      `robotrace-ts/${SDK_VERSION}`,
    );
  }

  /** The spooled episode, returned at once; its trace block is the span active at the call. */
  #spool(
    body: CreateEpisodeBody,
    final: FinalizeEpisodeBody,
    files: Array<[ArtifactKind, string, number]>,
  ): Episode {
    const id = newRecordId();
    const { episode, settle } = Episode.spooled(this.#backend, id, body.otel);
    (this.#worker as SpoolWorker).submit(
      {
        id,
        createdAt: new Date().toISOString(),
        createKey: randomUUID(),
        createBody: JSON.stringify(body),
        finalizeKey: randomUUID(),
        finalizeBody: JSON.stringify(final),
        files: files.map(([kind, path, size]) => ({
          kind,
          name: basename(path),
          size,
          source: resolve(path),
        })),
      },
      settle,
    );
    return episode;
  }

  #capture(): CapturedTrace | undefined {
    return captureActiveSpan(this.#config.respectSampled);
  }

  async #create(
    body: CreateEpisodeBody,
    trace: CapturedTrace | undefined,
    measureDuration: boolean,
  ): Promise<Episode> {
    const created = await this.#transport.json<CreateEpisodeResult>({
      method: 'POST',
      path: '/api/ingest/episode',
      body,
      idempotencyKey: randomUUID(),
      what: 'create episode',
    });
    if (typeof created.episode_id !== 'string' || !Array.isArray(created.upload_urls)) {
      throw new RobotraceError('create episode: the server answered without episode_id and upload_urls');
    }
    // One source of truth for the link: the server's answer (its public URL may differ from our base URL, e.g.
    // behind a proxy); our own guess only for a server that sends none.
    const url = created.portal_url
      ? new URL(created.portal_url, `${this.#config.baseUrl}/`).toString()
      : this.portalUrl(created.episode_id);
    if (!this.#config.quiet && this.#output.isTTY) this.#output.write(`[robotrace] → ${url}\n`);
    if (trace && body.otel && this.#config.linkSpan) linkSpanToEpisode(trace.span, created.episode_id, url);
    return new Episode(this.#backend, created, url, body.otel, measureDuration);
  }
}

const MAX_INT64 = 9_223_372_036_854_775_807n;

/**
 * `started_at_unix_ns`: the wall clock at `wallMs` (Date.now(): millisecond resolution, exact in nanoseconds —
 * BigInt, no float rounding of a 19-digit number) less `beforeS` seconds. Undefined when that is not a positive
 * int64 (a duration longer than the epoch), which the server would refuse: the call must never fail for it.
 */
function unixNs(wallMs: number, beforeS: number): string | undefined {
  const beforeNs = beforeS * 1e9;
  if (!Number.isFinite(wallMs) || !Number.isFinite(beforeNs)) return undefined;
  const ns = BigInt(Math.trunc(wallMs)) * 1_000_000n - BigInt(Math.round(beforeNs));
  return ns > 0n && ns <= MAX_INT64 ? ns.toString() : undefined;
}

/** The create body from validated arguments; the otel block only when the user did not decide otherwise. */
function episodeBody(options: EpisodeFields, ambient: OtelBlock | undefined): CreateEpisodeBody {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  const body: CreateEpisodeBody = { source: checkSource(options.source), request_uploads: [] };
  const text: Array<[keyof CreateEpisodeBody, string, unknown, number]> = [
    ['name', 'name', options.name, MAX_TEXT_LENGTH.name],
    ['robot', 'robot', options.robot, MAX_TEXT_LENGTH.robot],
    ['policy_version', 'policyVersion', options.policyVersion, MAX_TEXT_LENGTH.policy_version],
    ['env_version', 'envVersion', options.envVersion, MAX_TEXT_LENGTH.env_version],
    ['git_sha', 'gitSha', options.gitSha, MAX_TEXT_LENGTH.git_sha],
  ];
  for (const [wireName, argName, value, max] of text) {
    const checked = checkText(argName, value, max);
    if (checked !== undefined) (body as unknown as Record<string, unknown>)[wireName] = checked;
  }
  const seed = checkInteger('seed', options.seed);
  if (seed !== undefined) body.seed = seed;
  const fps = checkNonNegative('fps', options.fps);
  if (fps !== undefined) body.fps = fps;
  const metadata = checkMetadata(options.metadata);
  if (metadata) body.metadata = metadata;
  // An explicit metadata.otel (object or null) is the user's choice: the ambient span is not sent beside it.
  const userDecided = metadata !== undefined && Object.hasOwn(metadata, 'otel');
  if (ambient && !userDecided) body.otel = ambient;
  return body;
}
