import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { RobotraceError, TimeoutError } from './errors.js';
import { errorAttempt, type FetchLike, withRetries } from './http/transport.js';

/**
 * What `exportEpisodes` and `downloadArtifact` need beyond the transport: reading JSON Lines off a streamed body,
 * and writing one artifact to disk through its download URL (a 302 to a signed storage URL).
 */

/**
 * Each line of an NDJSON body as parsed JSON, read as it arrives (never the whole export in memory). A wait of
 * more than `idleMs` for the next bytes fails with a TimeoutError; time the consumer spends between lines is
 * not counted.
 */
export async function* jsonLines<T>(
  body: ReadableStream<Uint8Array> | null,
  what: string,
  idleMs?: number,
): AsyncGenerator<T> {
  if (body === null) return;
  const decoder = new TextDecoder();
  let buffered = '';
  let lineNo = 0;
  const parse = (line: string): T => {
    lineNo++;
    try {
      return JSON.parse(line) as T;
    } catch {
      throw new RobotraceError(`${what}: line ${lineNo} of the answer is not JSON`);
    }
  };
  for await (const chunk of chunksOf(body, idleMs, what)) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield parse(line);
      newline = buffered.indexOf('\n');
    }
  }
  const last = (buffered + decoder.decode()).trim();
  if (last) yield parse(last);
}

/**
 * The chunks of a fetch body (the DOM typings do not declare ReadableStream async-iterable); with `idleMs`, each
 * read must bring bytes within it.
 */
async function* chunksOf(
  body: ReadableStream<Uint8Array> | null,
  idleMs?: number,
  what = 'read',
): AsyncGenerator<Uint8Array> {
  if (body === null) return;
  const reader = body.getReader();
  const read = () => (idleMs === undefined ? reader.read() : readWithin(reader, idleMs, what));
  let done = false;
  try {
    for (let next = await read(); !next.done; next = await read()) yield next.value;
    done = true;
  } finally {
    // A consumer that stopped early (break, an error) closes the connection instead of leaving it half-read.
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  idleMs: number,
  what: string,
): ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: no bytes arrived for ${idleMs} ms`)), idleMs);
  });
  return Promise.race([reader.read(), idle]).finally(() => clearTimeout(timer));
}

export interface DownloadRequest {
  url: string;
  /** The file's path without its extension (`<dir>/<episode_id>/<kind>`): the extension comes from the file. */
  base: string;
  contentType: string | null;
  fetch: FetchLike;
  /** Headers for a URL; the API key only for the API's own origin (Transport.downloadHeaders). */
  headersFor: (url: string) => Record<string, string>;
  idleTimeoutMs: number;
  maxRetries: number;
  what: string;
}

const MAX_REDIRECTS = 5;

export interface Downloaded {
  path: string;
  bytes: number;
}

/**
 * Streams `url` (following its redirects by hand, so the API key is never sent to the storage host) into
 * `<base><ext>`. Written to `<base>.partial` and renamed when complete, so a failed download leaves no
 * truncated file behind. Retried like an upload, with an idle timeout.
 */
export async function download(request: DownloadRequest): Promise<Downloaded> {
  const partial = `${request.base}.partial`;
  try {
    const bytes = await withRetries(
      { what: request.what, maxRetries: request.maxRetries, timeoutMs: request.idleTimeoutMs },
      async ({ signal, progress }) => {
        const response = await follow(request, signal);
        if (!response.ok) return errorAttempt(response, await response.text());
        let written = 0;
        const out = createWriteStream(partial);
        try {
          for await (const chunk of chunksOf(response.body)) {
            progress();
            written += chunk.byteLength;
            if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
          }
        } finally {
          await new Promise<void>((resolve, reject) =>
            out.end((error?: Error | null) => (error ? reject(error) : resolve())),
          );
        }
        return { ok: true, value: written };
      },
    );
    const path = request.base + (await artifactExtension(partial, request.contentType));
    await rename(partial, path);
    return { path, bytes };
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

async function follow(request: DownloadRequest, signal: AbortSignal): Promise<Response> {
  let url = request.url;
  for (let hop = 0; ; hop++) {
    const response = await request.fetch(url, {
      headers: request.headersFor(url),
      redirect: 'manual',
      signal,
    });
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return response;
    if (hop >= MAX_REDIRECTS)
      throw new RobotraceError(`${request.what}: more than ${MAX_REDIRECTS} redirects`);
    await response.body?.cancel();
    url = new URL(location, url).toString();
  }
}

const EXTENSION_BY_TYPE: Record<string, string> = {
  'video/mp4': '.mp4',
  'video/webm': '.webm',
  'application/json': '.json',
  'application/x-ndjson': '.jsonl',
};

/**
 * The file extension of a downloaded artifact: from its content type when that says (video is video/mp4),
 * else from its first bytes, read as the server's track indexer reads them (sensors and actions are stored as
 * application/octet-stream whatever they hold). `.bin` when neither tells.
 */
export async function artifactExtension(path: string, contentType: string | null): Promise<string> {
  const byType = contentType
    ? EXTENSION_BY_TYPE[contentType.split(';')[0]?.trim().toLowerCase() ?? '']
    : undefined;
  if (byType) return byType;
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await file.read(head, 0, 8, 0);
    return extensionOfHead(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

export function extensionOfHead(head: Uint8Array): string {
  const ascii = Buffer.from(head).toString('latin1');
  if (ascii.startsWith('PK\u0003\u0004') || ascii.startsWith('PK\u0005\u0006')) return '.npz';
  if (ascii.startsWith('\u0093NUMPY')) return '.npy';
  if (ascii.startsWith('PAR1')) return '.parquet';
  if (
    ascii.startsWith('ARROW1') ||
    (head.length >= 4 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff)
  )
    return '.arrow';
  if (ascii.startsWith('\u0089MCAP')) return '.mcap';
  return '.bin';
}
