import { createHash, webcrypto } from 'node:crypto';
import { open } from 'node:fs/promises';
import { NotFoundError, RobotraceError } from '../errors.js';
import type { Transport } from '../http/transport.js';
import type { ArtifactKind } from '../wire.js';

/** Resumable uploads (issue 18): files from this size on go in parts. Env `ROBOTRACE_MULTIPART_THRESHOLD_BYTES`. */
export const DEFAULT_MULTIPART_THRESHOLD = 128 * 1024 * 1024;
/**
 * Parts in flight at once, each read into memory once (hashed, then sent from that buffer): one connection
 * rarely fills a fast link, and an interruption costs at most these (half of each on average: 1.5 parts,
 * under the goal of 2). Fewer when parts are big, so the buffers stay under `MAX_BUFFERED_BYTES`.
 */
const PARALLEL_PARTS = 3;
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/**
 * The answer deadline of complete: S3 may take minutes to assemble a big object (moto: tens of seconds for
 * 1 GiB on a busy machine), and a retry while the first is still running only races it.
 */
const COMPLETE_TIMEOUT_MS = 15 * 60_000;

/** This kind's entry of the spool state (spec/SPOOL.md): the upload and the parts acknowledged so far. */
export interface MultipartProgress {
  upload_id?: string;
  /** The whole file's SHA-256: announced at start by older uploads, else known once every part was read. */
  sha256?: string;
  parts?: Record<string, string>;
}

interface UploadAnswer {
  upload_id: string;
  part_size_bytes: number;
  part_count: number;
  /** Absent from servers before part checksums: those want the whole SHA-256 at start. */
  part_checksums?: boolean;
  parts?: Array<{ part_number: number; etag: string }>;
}

interface SignedPart {
  part_number: number;
  url: string;
  headers?: Record<string, string>;
}

/** One part to PUT: its place in the file, its bytes, and the headers its signed URL wants. */
export interface PartBody {
  offset: number;
  bytes: Uint8Array;
  headers: Record<string, string>;
}

/** PUTs one part to its signed URL; resolves with its ETag. */
export type PartSender = (url: string, part: PartBody) => Promise<string>;

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'r');
  try {
    for await (const chunk of file.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false }))
      hash.update(chunk as Buffer);
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/**
 * Uploads a file in parts, resuming the upload in `progress` when the server still has it (its list of
 * acknowledged parts wins over ours); `save` persists `progress` after every acknowledged part.
 *
 * One read of the file: each part is read into memory in order, feeds the whole file's SHA-256 and its own,
 * and is sent from that buffer with its SHA-256 signed into its URL (part checksums: the store refuses other
 * bytes). Complete then declares both, so the server need not read the file back. A resume reads the parts
 * already acknowledged too (for the whole-file hash) but does not send them.
 */
export async function uploadInParts(
  transport: Transport,
  episodeId: string,
  file: { kind: ArtifactKind; path: string; size: number },
  progress: MultipartProgress,
  save: () => Promise<void>,
  sendPart: PartSender,
): Promise<{ size_bytes: number; sha256: string; bytes_received: number | null }> {
  const base = `/api/ingest/episode/${encodeURIComponent(episodeId)}/uploads`;
  const upload = await resumeOrStart(transport, base, file, progress, save);
  const id = encodeURIComponent(upload.upload_id);
  const checksums = upload.part_checksums === true;
  const etags = new Map<number, string>((upload.parts ?? []).map((p) => [p.part_number, p.etag]));
  progress.parts = Object.fromEntries([...etags].map(([n, e]) => [String(n), e]));

  const sendOne = async (n: number, offset: number, bytes: Buffer, sha256: string) => {
    const signed = await transport.json<{ urls: SignedPart[] }>({
      method: 'POST',
      path: `${base}/${id}/parts`,
      body: checksums ? { parts: [{ part_number: n, sha256 }] } : { part_numbers: [n] },
      what: 'sign upload part',
    });
    const url = signed.urls[0];
    if (!url) throw new RobotraceError(`sign upload part: the server answered no URL for part ${n}`);
    const etag = await sendPart(url.url, { offset, bytes, headers: url.headers ?? {} });
    etags.set(n, etag);
    (progress.parts as Record<string, string>)[String(n)] = etag;
    await save();
  };

  const whole = createHash('sha256');
  const partSha = new Array<string>(upload.part_count);
  const limit = Math.max(
    1,
    Math.min(PARALLEL_PARTS, Math.floor(MAX_BUFFERED_BYTES / upload.part_size_bytes)),
  );
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const handle = await open(file.path, 'r');
  try {
    for (let n = 1; n <= upload.part_count && !failure; n++) {
      const offset = (n - 1) * upload.part_size_bytes;
      const bytes = await readExactly(handle, offset, Math.min(upload.part_size_bytes, file.size - offset));
      // The part's hash on libuv's thread pool (WebCrypto), beside the sends; only the whole file's, which
      // must go in order, runs here.
      const partHash = webcrypto.subtle.digest('SHA-256', bytes);
      whole.update(bytes);
      const sha256 = Buffer.from(await partHash).toString('hex');
      partSha[n - 1] = sha256;
      if (etags.has(n)) continue;
      while (inFlight.size >= limit && !failure) await Promise.race(inFlight);
      if (failure) break;
      const sending: Promise<void> = sendOne(n, offset, bytes, sha256).then(
        () => void inFlight.delete(sending),
        (error: unknown) => {
          inFlight.delete(sending);
          failure ??= { error };
        },
      );
      inFlight.add(sending);
    }
    await Promise.all(inFlight);
  } finally {
    await handle.close();
  }
  if (failure) throw failure.error;
  progress.sha256 ??= whole.digest('hex');
  const parts = Array.from({ length: upload.part_count }, (_, i) => ({
    part_number: i + 1,
    etag: etags.get(i + 1) ?? '',
    ...(checksums ? { sha256: partSha[i] } : {}),
  }));
  return transport.json({
    method: 'POST',
    path: `${base}/${id}/complete`,
    body: checksums ? { parts, sha256: progress.sha256 } : { parts },
    what: 'complete upload',
    timeoutMs: Math.max(COMPLETE_TIMEOUT_MS, transport.settings.timeoutMs),
  });
}

/** The upload in `progress` when the server still has it (completed, aborted or expired: a new one). */
async function resumeOrStart(
  transport: Transport,
  base: string,
  file: { kind: ArtifactKind; size: number },
  progress: MultipartProgress,
  save: () => Promise<void>,
): Promise<UploadAnswer> {
  if (progress.upload_id) {
    try {
      return await transport.json<UploadAnswer>({
        method: 'GET',
        path: `${base}/${encodeURIComponent(progress.upload_id)}`,
        what: 'resume upload',
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  // No SHA-256 at start: the upload uses part checksums, and the whole file's is declared at complete.
  const upload = await transport.json<UploadAnswer>({
    method: 'POST',
    path: base,
    body: { kind: file.kind, size_bytes: file.size },
    what: 'start upload',
  });
  progress.upload_id = upload.upload_id;
  progress.parts = {};
  delete progress.sha256;
  await save();
  return upload;
}

async function readExactly(
  handle: Awaited<ReturnType<typeof open>>,
  offset: number,
  length: number,
): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
    if (bytesRead === 0) throw new Error(`the file ended at byte ${offset + done}, before its size`);
    done += bytesRead;
  }
  return bytes;
}

/**
 * Blocking delivery's resumable upload (no spool: the progress lives for this call only, so a retry after an
 * interruption re-sends only the parts that failed, not the whole file). Resolves with the bytes sent, or
 * null when the server has no multipart routes (the caller then PUTs the file whole).
 */
export async function uploadInPartsNow(
  transport: Transport,
  episodeId: string,
  file: { kind: ArtifactKind; path: string; size: number },
  sendPart: PartSender,
  onSent?: (sentBytes: number) => void,
): Promise<number | null> {
  const progress: MultipartProgress = {};
  let sent = 0;
  try {
    await uploadInParts(
      transport,
      episodeId,
      file,
      progress,
      async () => undefined,
      async (url, part) => {
        const etag = await sendPart(url, part);
        sent += part.bytes.length;
        onSent?.(sent);
        return etag;
      },
    );
  } catch (error) {
    if (error instanceof NotFoundError && !progress.upload_id) return null;
    throw error;
  }
  return file.size;
}
