import { RobotraceError, URLExpiredError } from './errors.js';
import type { Receipt } from './spool/record.js';
import type { ProgressListener } from './upload.js';
import { checkMetadata, checkNonNegative, fail } from './validate.js';
import type {
  ArtifactKind,
  CreateEpisodeResult,
  EpisodeRecord,
  EpisodeStatus,
  FinalizeEpisodeBody,
  JsonObject,
  OtelBlock,
  UploadUrl,
} from './wire.js';
import { ARTIFACT_KINDS } from './wire.js';

export interface FinishOptions {
  /** Run length in seconds. Default for `startEpisode`: the time since the episode started. */
  durationS?: number;
  fps?: number;
  /** Merged into the stored metadata. */
  metadata?: JsonObject;
}

export interface FailOptions extends FinishOptions {
  /** When in the run the failure happened, in seconds from its start. */
  failureTimeS?: number;
}

export interface UploadOptions {
  onProgress?: ProgressListener;
}

/** What an Episode needs from its client; kept narrow so the handle stays a small object. */
export interface EpisodeBackend {
  uploadArtifact(
    kind: ArtifactKind,
    path: string,
    url: string,
    onProgress?: ProgressListener,
  ): Promise<number>;
  /**
   * A file from the multipart threshold on, in resumable parts (issue 18); resolves with the bytes sent,
   * or null when it is smaller or the server has no multipart routes (then the slot's single PUT).
   */
  uploadInParts?(
    episodeId: string,
    kind: ArtifactKind,
    path: string,
    onProgress?: ProgressListener,
  ): Promise<number | null>;
  finalizeEpisode(id: string, body: FinalizeEpisodeBody): Promise<EpisodeRecord>;
  /** A new signed URL for one slot (`POST /api/ingest/episode/{id}/upload-url`). */
  refreshUploadUrl(id: string, kind: ArtifactKind): Promise<UploadUrl>;
}

/** Refresh a little before the stated expiry: the PUT of a large file starts now but is checked on arrival. */
const EXPIRY_MARGIN_MS = 5_000;

/**
 * A created episode: upload its files, then `finish()` it (status "ready") or `fail(reason)`. The trace context
 * was captured when it was created; nothing done here changes it.
 */
export class Episode {
  /** The server's id; '' while a background episode waits in the spool (see `delivered()`). */
  id: string;
  /** Portal page of the episode ('' until a background episode is delivered). */
  url: string;
  storage: string;
  /** The signed upload URLs, one per requested slot (replaced when a fresh one had to be asked for). */
  uploadUrls: readonly UploadUrl[];
  /** Server warnings about the create request (e.g. a rejected otel block). */
  readonly warnings: readonly string[];
  /** The trace block sent with the create request, if any. */
  readonly otel: OtelBlock | undefined;
  /** `spooled` while a background episode waits to be delivered. */
  status: EpisodeStatus | 'spooled';
  /** Background delivery: the record's id in the spool (spec/SPOOL.md). */
  spoolId: string | undefined;
  /** Background delivery: why the episode could not be spooled or was parked. */
  deliveryError: string | undefined;
  /** The stored episode as the server returned it from finalize. */
  record: EpisodeRecord | undefined;
  /** Bytes uploaded so far through this handle. */
  bytesUploaded = 0;

  readonly #backend: EpisodeBackend;
  readonly #startedAt = performance.now();
  readonly #measureDuration: boolean;
  #delivered: Promise<boolean> = Promise.resolve(true);

  constructor(
    backend: EpisodeBackend,
    created: CreateEpisodeResult,
    url: string,
    otel: OtelBlock | undefined,
    measureDuration: boolean,
  ) {
    this.#backend = backend;
    this.#measureDuration = measureDuration;
    this.id = created.episode_id;
    this.url = url;
    this.storage = created.storage;
    this.uploadUrls = created.upload_urls;
    this.warnings = created.warnings ?? [];
    this.status = created.status;
    this.otel = otel;
  }

  /**
   * Background delivery: resolves true once the episode is on the server (`id`, `url` and `status` are then
   * the server's), false when it could not be (`deliveryError` says why), or after `timeoutMs`. Never
   * rejects. An episode from a blocking call is delivered already.
   */
  delivered(timeoutMs?: number): Promise<boolean> {
    if (timeoutMs === undefined) return this.#delivered;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    return Promise.race([this.#delivered, late]).finally(() => clearTimeout(timer));
  }

  /** @internal The spooled form: the returned listener fills the episode in when its record leaves the spool. */
  static spooled(
    backend: EpisodeBackend,
    spoolId: string,
    otel: OtelBlock | undefined,
  ): { episode: Episode; settle: (result: { receipt?: Receipt; error?: string }) => void } {
    const episode = new Episode(
      backend,
      { episode_id: '', status: 'recording', storage: 'spool', upload_urls: [] },
      '',
      otel,
      false,
    );
    episode.status = 'spooled';
    episode.spoolId = spoolId;
    let resolve: (ok: boolean) => void = () => undefined;
    episode.#delivered = new Promise<boolean>((r) => {
      resolve = r;
    });
    const settle = (result: { receipt?: Receipt; error?: string }) => {
      if (result.receipt) {
        episode.id = result.receipt.episode_id;
        episode.url = result.receipt.url;
        episode.status = (result.receipt.status as EpisodeStatus) || 'ready';
      }
      episode.deliveryError = result.error;
      resolve(result.receipt !== undefined);
    };
    return { episode, settle };
  }

  /** Uploads the episode's video (any of .mp4 .webm .mov .m4v; sent as video/mp4 like the official SDK). */
  uploadVideo(path: string, options?: UploadOptions): Promise<number> {
    return this.upload('video', path, options);
  }

  /** Streams a file from disk to the signed URL of its slot. Resolves with the bytes sent. */
  async upload(kind: ArtifactKind, path: string, options: UploadOptions = {}): Promise<number> {
    if (!ARTIFACT_KINDS.includes(kind)) {
      fail(`kind must be one of ${ARTIFACT_KINDS.join(', ')} (got ${JSON.stringify(kind)})`);
    }
    let slot = this.uploadUrls.find((u) => u.kind === kind);
    if (!slot) {
      const requested = this.uploadUrls.map((u) => u.kind).join(', ') || 'none';
      throw new RobotraceError(
        `episode ${this.id} has no ${kind} upload slot (requested: ${requested}); pass artifacts: [...] to startEpisode`,
      );
    }
    // Signed URLs expire (15 min by default): a long run asks for a fresh one instead of streaming a whole file
    // into a refusal. Servers without the refresh endpoint keep the old URL.
    let refreshed = false;
    if (Date.parse(slot.expires_at) - Date.now() < EXPIRY_MARGIN_MS) {
      slot = (await this.#refresh(kind).catch(() => undefined)) ?? slot;
      refreshed = true;
    }
    const inParts = await this.#backend.uploadInParts?.(this.id, kind, path, options.onProgress);
    if (inParts !== undefined && inParts !== null) {
      this.bytesUploaded += inParts;
      return inParts;
    }
    let sent: number;
    try {
      sent = await this.#backend.uploadArtifact(kind, path, slot.url, options.onProgress);
    } catch (error) {
      if (refreshed || !(error instanceof URLExpiredError)) throw error;
      // The clocks disagreed, or the upload started just in time: ask once more, then give up.
      slot = await this.#refresh(kind);
      sent = await this.#backend.uploadArtifact(kind, path, slot.url, options.onProgress);
    }
    this.bytesUploaded += sent;
    return sent;
  }

  async #refresh(kind: ArtifactKind): Promise<UploadUrl> {
    const fresh = await this.#backend.refreshUploadUrl(this.id, kind);
    this.uploadUrls = this.uploadUrls.map((u) => (u.kind === kind ? fresh : u));
    return fresh;
  }

  /** Marks the episode ready. */
  finish(options: FinishOptions = {}): Promise<EpisodeRecord> {
    return this.#finalize('ready', options, undefined, undefined);
  }

  /** Marks the episode failed, storing the reason at `metadata.failure_reason`. */
  fail(reason: string | Error, options: FailOptions = {}): Promise<EpisodeRecord> {
    const text = reason instanceof Error ? reason.message || reason.name : String(reason);
    return this.#finalize('failed', options, text, checkNonNegative('failureTimeS', options.failureTimeS));
  }

  async #finalize(
    status: 'ready' | 'failed',
    options: FinishOptions,
    failureReason: string | undefined,
    failureTimeS: number | undefined,
  ): Promise<EpisodeRecord> {
    const metadata = checkMetadata(options.metadata);
    const body: FinalizeEpisodeBody = { status, bytes_total: this.bytesUploaded };
    const duration =
      checkNonNegative('durationS', options.durationS) ??
      (this.#measureDuration ? (performance.now() - this.#startedAt) / 1000 : undefined);
    if (duration !== undefined) body.duration_s = duration;
    const fps = checkNonNegative('fps', options.fps);
    if (fps !== undefined) body.fps = fps;
    if (failureTimeS !== undefined) body.failure_time_s = failureTimeS;
    if (metadata || failureReason !== undefined) {
      body.metadata = {
        ...metadata,
        ...(failureReason !== undefined ? { failure_reason: failureReason } : {}),
      };
    }
    const record = await this.#backend.finalizeEpisode(this.id, body);
    this.record = record;
    this.status = record.status ?? status;
    return record;
  }
}
