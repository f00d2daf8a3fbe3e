import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { NotFoundError } from '../errors.js';
import type { Transport } from '../http/transport.js';
import type { ArtifactKind } from '../wire.js';

/** Resumable uploads (issue 18): files from this size on go in parts. Env `ROBOTRACE_MULTIPART_THRESHOLD_BYTES`. */
export const DEFAULT_MULTIPART_THRESHOLD = 128 * 1024 * 1024;
/** Signed part URLs asked for at once (the server signs at most 1000 per call). */
const URL_BATCH = 100;
/** Parts sent at once: two fill a link better than one, and an interruption costs at most these two. */
const PARALLEL_PARTS = 2;

/** This kind's entry of the spool state (spec/SPOOL.md): the upload and the parts acknowledged so far. */
export interface MultipartProgress {
  upload_id?: string;
  sha256?: string;
  parts?: Record<string, string>;
}

interface UploadAnswer {
  upload_id: string;
  part_size_bytes: number;
  part_count: number;
  parts?: Array<{ part_number: number; etag: string }>;
}

export type PartSender = (url: string, offset: number, length: number) => Promise<string>;

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Uploads a file in parts, resuming the upload in `progress` when the server still has it (its list of
 * acknowledged parts wins over ours); `save` persists `progress` after every acknowledged part.
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
  let upload: UploadAnswer | undefined;
  if (progress.upload_id) {
    try {
      upload = await transport.json<UploadAnswer>({
        method: 'GET',
        path: `${base}/${encodeURIComponent(progress.upload_id)}`,
        what: 'resume upload',
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error; // completed, aborted or expired: start again
    }
  }
  if (!upload) {
    progress.sha256 ??= await sha256Of(file.path);
    upload = await transport.json<UploadAnswer>({
      method: 'POST',
      path: base,
      body: { kind: file.kind, size_bytes: file.size, sha256: progress.sha256 },
      what: 'start upload',
    });
    progress.upload_id = upload.upload_id;
    progress.parts = {};
    await save();
  }
  const id = encodeURIComponent(upload.upload_id);
  const etags = new Map<number, string>((upload.parts ?? []).map((p) => [p.part_number, p.etag]));
  progress.parts = Object.fromEntries([...etags].map(([n, e]) => [String(n), e]));
  const todo = Array.from({ length: upload.part_count }, (_, i) => i + 1).filter((n) => !etags.has(n));
  for (let i = 0; i < todo.length; i += URL_BATCH) {
    const signed = await transport.json<{ urls: Array<{ part_number: number; url: string }> }>({
      method: 'POST',
      path: `${base}/${id}/parts`,
      body: { part_numbers: todo.slice(i, i + URL_BATCH) },
      what: 'sign upload parts',
    });
    // A few parts in flight at once: one connection rarely fills a fast link, and S3 takes parts in any order.
    const queue = [...signed.urls];
    const sender = async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        const offset = (entry.part_number - 1) * (upload as UploadAnswer).part_size_bytes;
        const length = Math.min((upload as UploadAnswer).part_size_bytes, file.size - offset);
        const etag = await sendPart(entry.url, offset, length);
        etags.set(entry.part_number, etag);
        (progress.parts as Record<string, string>)[String(entry.part_number)] = etag;
        await save();
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_PARTS }, sender));
  }
  const parts = Array.from({ length: upload.part_count }, (_, i) => ({
    part_number: i + 1,
    etag: etags.get(i + 1) ?? '',
  }));
  return transport.json({
    method: 'POST',
    path: `${base}/${id}/complete`,
    body: { parts },
    what: 'complete upload',
  });
}
