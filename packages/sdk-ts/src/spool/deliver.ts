import { APIError, AuthError, NotFoundError, RobotraceError, URLExpiredError } from '../errors.js';
import { isRetryableStatus } from '../http/retry.js';
import type { Transport } from '../http/transport.js';
import type { ArtifactKind, CreateEpisodeResult, UploadUrl } from '../wire.js';
import { type PartBody, uploadInParts } from './multipart.js';
import { CorruptRecordError, type Receipt, recordSize, type SpoolRecord, type SpoolState } from './record.js';
import { FileGoneError, type SpoolStore } from './store.js';

/** What delivering needs from a client: its transport, its upload, its base URL. */
export interface DeliveryBackend {
  transport: Transport;
  baseUrl: string;
  upload(kind: ArtifactKind, path: string, url: string): Promise<number>;
  /** One part of a resumable upload; resolves with its ETag. */
  uploadPart(kind: ArtifactKind, url: string, part: PartBody): Promise<string>;
  /** Files from this size on go in resumable parts. */
  multipartThresholdBytes: number;
}

export type Outcome =
  | { kind: 'delivered'; receipt: Receipt }
  | { kind: 'parked'; reason: string }
  | { kind: 'retry'; reason: string };

/** An answer that resending the same record cannot change (a 4xx about the request itself). */
export function isPermanent(error: unknown): boolean {
  if (!(error instanceof APIError) || error instanceof AuthError || error instanceof URLExpiredError)
    return false;
  return !isRetryableStatus(error.status) && error.status !== 403;
}

/**
 * Delivers one claimed record: create, each upload, finalize, with a state write after each step, so a new
 * process resumes after the last acknowledged step; the stored Idempotency-Keys make a redone step a no-op.
 * Never throws: every failure is an outcome.
 */
export async function deliverOne(backend: DeliveryBackend, store: SpoolStore, id: string): Promise<Outcome> {
  let record: SpoolRecord;
  try {
    record = await store.load(id);
  } catch (error) {
    const why = error instanceof CorruptRecordError ? error.message : String(error);
    return park(store, id, `corrupt record: ${why}`);
  }
  const state = await store.state(id);
  try {
    return await deliver(backend, store, record, state);
  } catch (error) {
    const reason = `${(error as Error).name}: ${(error as Error).message}`;
    if (error instanceof FileGoneError) return park(store, id, (error as Error).message);
    if (isPermanent(error)) return park(store, id, reason);
    state.attempts = (state.attempts ?? 0) + 1;
    state.last_error = reason.slice(0, 2000);
    await store.saveState(id, state).catch(() => undefined); // a read-only spool: the count is only advice
    return { kind: 'retry', reason };
  }
}

async function deliver(
  backend: DeliveryBackend,
  store: SpoolStore,
  record: SpoolRecord,
  state: SpoolState,
): Promise<Outcome> {
  if (!state.episode_id) {
    const created = await backend.transport.json<CreateEpisodeResult>({
      method: 'POST',
      path: '/api/ingest/episode',
      rawBody: record.createBody,
      idempotencyKey: record.createKey,
      what: 'create episode',
    });
    if (typeof created.episode_id !== 'string' || !created.episode_id)
      throw new RobotraceError('create episode: the server answered without episode_id');
    state.episode_id = created.episode_id;
    state.url = created.portal_url
      ? new URL(created.portal_url, `${backend.baseUrl}/`).toString()
      : `${backend.baseUrl}/portal/episodes/${encodeURIComponent(created.episode_id)}`;
    state.upload_urls = Array.isArray(created.upload_urls) ? created.upload_urls : [];
    await store.saveState(record.id, state);
  }
  const episodeId = state.episode_id;
  const uploaded = [...(state.uploaded ?? [])];
  for (const f of record.files) {
    if (uploaded.includes(f.kind)) continue;
    const path = await store.filePath(record, f);
    const save = () => store.saveState(record.id, state);
    const inParts =
      f.size >= backend.multipartThresholdBytes &&
      (await uploadResumable(backend, state, episodeId, { kind: f.kind, path, size: f.size }, save));
    if (!inParts) await upload(backend, state, episodeId, f.kind, path);
    uploaded.push(f.kind);
    state.uploaded = uploaded;
    await store.saveState(record.id, state);
  }
  if (!state.finalized) {
    const answer = await backend.transport.json<{ status?: string }>({
      method: 'POST',
      path: `/api/ingest/episode/${encodeURIComponent(episodeId)}/finalize`,
      rawBody: record.finalizeBody,
      idempotencyKey: record.finalizeKey,
      what: 'finalize episode',
    });
    state.finalized = true;
    state.status = typeof answer.status === 'string' ? answer.status : 'ready';
    await store.saveState(record.id, state);
  }
  const receipt: Receipt = {
    id: record.id,
    episode_id: episodeId,
    url: state.url ?? '',
    status: state.status ?? 'ready',
    delivered_at: new Date().toISOString(),
  };
  await store.delivered(record.id, receipt, recordSize(record));
  return { kind: 'delivered', receipt };
}

/** Refresh a little before the stated expiry (as `Episode.upload`): the server checks it on arrival. */
const EXPIRY_MARGIN_MS = 5_000;

async function upload(
  backend: DeliveryBackend,
  state: SpoolState,
  episodeId: string,
  kind: ArtifactKind,
  path: string,
): Promise<void> {
  const refresh = async () => {
    const fresh = await backend.transport.json<UploadUrl>({
      method: 'POST',
      path: `/api/ingest/episode/${encodeURIComponent(episodeId)}/upload-url`,
      body: { kind },
      what: `refresh ${kind} upload URL`,
    });
    state.upload_urls = [...(state.upload_urls ?? []).filter((u) => u.kind !== kind), fresh];
    return fresh;
  };
  let slot = state.upload_urls?.find((u) => u.kind === kind);
  let refreshed = false;
  if (!slot || Date.parse(slot.expires_at) - Date.now() < EXPIRY_MARGIN_MS) {
    slot = await refresh();
    refreshed = true;
  }
  try {
    await backend.upload(kind, path, slot.url);
  } catch (error) {
    if (refreshed || !(error instanceof URLExpiredError)) throw error;
    await backend.upload(kind, path, (await refresh()).url);
  }
}

/** A resumable upload; false when the server has no multipart routes (then a single PUT does). */
async function uploadResumable(
  backend: DeliveryBackend,
  state: SpoolState,
  episodeId: string,
  file: { kind: ArtifactKind; path: string; size: number },
  save: () => Promise<void>,
): Promise<boolean> {
  const all = state.multipart ?? {};
  const progress = all[file.kind] ?? {};
  all[file.kind] = progress;
  state.multipart = all;
  try {
    await uploadInParts(backend.transport, episodeId, file, progress, save, (url, part) =>
      backend.uploadPart(file.kind, url, part),
    );
  } catch (error) {
    if (error instanceof NotFoundError && !progress.upload_id) return false;
    throw error;
  }
  return true;
}

async function park(store: SpoolStore, id: string, reason: string): Promise<Outcome> {
  try {
    await store.park(id, reason);
  } catch {
    return { kind: 'retry', reason: `${reason} (and it could not be parked)` };
  }
  return { kind: 'parked', reason };
}
