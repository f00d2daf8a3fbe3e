import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LocalMultipart } from './local-multipart.js';
import type { ArtifactStore, SignedUrl, StoredObject } from './port.js';
import { type SignatureCheck, type SignedOp, sign, verify } from './signing.js';

const SEGMENT = /^[A-Za-z0-9_-]{1,100}$/;

/** Thrown while streaming when the body is larger than allowed; nothing is kept. */
export class UploadTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`upload is larger than the limit of ${maxBytes} bytes`);
  }
}

/** Thrown when the disk has no room; the partial file is removed. */
export class StorageFullError extends Error {}

/** Thrown when the body ended before (or ran past) the length the client announced; nothing is kept. */
export class UploadLengthError extends Error {
  constructor(
    readonly received: number,
    readonly expected: number,
  ) {
    super(`upload was cut short: got ${received} of ${expected} bytes`);
  }
}

/** A complete upload in a temp file, not yet an artifact. */
export interface ReceivedUpload {
  readonly temp: string;
  readonly size: number;
}

export interface LocalRequest {
  key: string;
  op: SignedOp;
  expiresAtS: number;
  contentType: string;
  signature: string;
}

/**
 * Artifacts on the local disk (the embedded default). URLs point at the app (`/api/storage/...`) and carry
 * an HMAC over (op, key, expiry, content type) with the server secret, so only what the API handed out works.
 * Writes go to a temp file renamed into place only once complete and accepted: an interrupted, oversized or
 * short PUT leaves no partial artifact, and never replaces the one already there.
 */
export class LocalDiskStore implements ArtifactStore {
  readonly kind = 'local' as const;
  /** Resumable uploads of large files: the same protocol as S3 multipart (local-multipart.ts). */
  readonly multipart: LocalMultipart;

  constructor(
    private readonly root: string,
    private readonly secret: string,
    private readonly nowS: () => number = () => Math.floor(Date.now() / 1000),
    options: { abandonedUploadMaxAgeS?: number } = {},
  ) {
    this.multipart = new LocalMultipart(
      root,
      secret,
      {
        tempPath: async () => {
          await mkdir(this.tempDir, { recursive: true });
          return join(this.tempDir, `${randomBytes(9).toString('hex')}.part`);
        },
        place: (upload, key, contentType) => this.place(upload, key, contentType),
      },
      nowS,
      options.abandonedUploadMaxAgeS,
    );
  }

  /** Maps a generated key to a path under the root; refuses anything that is not plain segments. */
  pathOf(key: string): string {
    const segments = key.split('/');
    if (segments.length < 1 || !segments.every((s) => SEGMENT.test(s)))
      throw new Error('invalid storage key');
    return join(this.root, ...segments);
  }

  private url(
    op: SignedOp,
    key: string,
    contentType: string,
    expiresInS: number,
    baseUrl: string,
    issuedAt?: Date,
  ): SignedUrl {
    const expiresAtS = (issuedAt ? Math.floor(issuedAt.getTime() / 1000) : this.nowS()) + expiresInS;
    const sig = sign(this.secret, { op, key, expiresAtS, contentType });
    const params = new URLSearchParams({ op, exp: String(expiresAtS), ct: contentType, sig });
    return {
      url: `${baseUrl}/api/storage/${key.split('/').map(encodeURIComponent).join('/')}?${params}`,
      expiresAt: new Date(expiresAtS * 1000),
    };
  }

  async signUpload(
    key: string,
    o: { contentType: string; expiresInS: number; baseUrl: string; issuedAt?: Date },
  ) {
    this.pathOf(key);
    return this.url('put', key, o.contentType, o.expiresInS, o.baseUrl, o.issuedAt);
  }

  async signDownload(key: string, o: { expiresInS: number; baseUrl: string; contentType?: string | null }) {
    this.pathOf(key);
    return this.url('get', key, o.contentType ?? 'application/octet-stream', o.expiresInS, o.baseUrl);
  }

  /** Checks a request against its signature; `key` comes from the URL path. */
  check(req: LocalRequest): SignatureCheck {
    return verify(this.secret, req, req.signature, this.nowS());
  }

  /**
   * Streams the body to a temp file, checking the size limit and, when the client announced one, the length.
   * Nothing is in place yet: `place` makes it the artifact, `discard` drops it. On any failure the temp file is
   * already gone.
   */
  async receive(
    body: Readable,
    limits: { maxBytes: number; expectedBytes: number | null },
  ): Promise<ReceivedUpload> {
    // Temp files live in one directory (`.tmp` cannot be a key segment) so a sweep never walks the artifacts.
    await mkdir(this.tempDir, { recursive: true });
    const temp = join(this.tempDir, `${randomBytes(9).toString('hex')}.part`);
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limits.maxBytes) done(new UploadTooLargeError(limits.maxBytes));
        else done(null, chunk);
      },
    });
    // The body reaches the file through a PassThrough: a failed write (disk full, too large) must not destroy
    // the request, so the caller can still read off what the client is sending and answer on a live connection.
    const source = new PassThrough();
    const forwardError = (err: Error) => source.destroy(err);
    const forwardClose = () => {
      if (!body.readableEnded) source.destroy(new Error('the upload was interrupted'));
    };
    body.once('error', forwardError);
    body.once('close', forwardClose);
    body.pipe(source);
    try {
      await pipeline(source, counter, createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
      if (limits.expectedBytes !== null && size !== limits.expectedBytes)
        throw new UploadLengthError(size, limits.expectedBytes);
      return { temp, size };
    } catch (err) {
      body.unpipe(source);
      await rm(temp, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC')
        throw new StorageFullError('no space left on the artifact disk');
      throw err;
    } finally {
      body.off('error', forwardError);
      body.off('close', forwardClose);
    }
  }

  /** Makes a received upload the artifact at `key` (its content type in a sidecar), replacing any before. */
  async place(upload: ReceivedUpload, key: string, contentType: string): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(`${target}.meta`, JSON.stringify({ contentType }));
    await rename(upload.temp, target);
  }

  /** Drops a received upload that will not be placed (no-op once placed). */
  async discard(upload: ReceivedUpload): Promise<void> {
    await rm(upload.temp, { force: true });
  }

  /** receive + place, for callers with nothing to decide in between. Returns the stored size. */
  async write(
    key: string,
    body: Readable,
    maxBytes: number,
    contentType: string,
    expectedBytes: number | null = null,
  ): Promise<number> {
    this.pathOf(key);
    const upload = await this.receive(body, { maxBytes, expectedBytes });
    try {
      await this.place(upload, key, contentType);
    } finally {
      await this.discard(upload);
    }
    return upload.size;
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(key), range);
  }

  async readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const handle = await open(this.pathOf(key), 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.max(0, length));
      let done = 0;
      while (done < buf.byteLength) {
        const { bytesRead } = await handle.read(buf, done, buf.byteLength - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === buf.byteLength ? buf : buf.subarray(0, done);
    } finally {
      await handle.close();
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await stat(this.pathOf(key));
      let contentType: string | null = null;
      try {
        contentType =
          (JSON.parse(await readFile(`${this.pathOf(key)}.meta`, 'utf8')) as { contentType?: string })
            .contentType ?? null;
      } catch {
        // no sidecar: unknown type
      }
      return { size: s.size, contentType };
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
    await rm(`${this.pathOf(key)}.meta`, { force: true });
    // The episode's directory goes with its last file (a deleted episode leaves nothing behind); rmdir refuses a
    // directory still holding another artifact. Placing and deleting one episode's files never overlap: both run
    // under the episode's row lock.
    await rmdir(dirname(this.pathOf(key))).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST' && err.code !== 'ENOENT') throw err;
    });
  }

  private get tempDir(): string {
    return join(this.root, '.tmp');
  }

  /**
   * Removes temp files untouched for `olderThanMs`: what a killed process left mid-upload. Never visible as
   * artifacts (only the rename makes one), they only take disk space. An upload in progress writes
   * continuously, so its temp file is never that old. Returns how many were removed.
   */
  async removeStalePartials(olderThanMs: number, nowMs = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.tempDir);
    } catch {
      return 0; // no upload yet
    }
    let removed = 0;
    for (const name of names) {
      const path = join(this.tempDir, name);
      try {
        if ((await stat(path)).mtimeMs < nowMs - olderThanMs) {
          await rm(path, { force: true });
          removed++;
        }
      } catch {
        // renamed or removed meanwhile
      }
    }
    return removed;
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await statfs(this.root);
  }
}
