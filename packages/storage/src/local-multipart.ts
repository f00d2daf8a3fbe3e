import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AssembledUpload, MultipartStore, SignedPartUrl, StoredPart } from './port.js';
import { IntegrityError } from './port.js';
import { type SignatureCheck, sign, verify } from './signing.js';

const UPLOAD_ID = /^[a-f0-9]{24}$/;
const PART_FILE = /^(\d{1,5})-([a-f0-9]{32})\.part$/;
const PART_TYPE = 'application/octet-stream';
/** The default of `ROBOTRACE_ABANDONED_UPLOAD_MAX_AGE_S`: the SDKs' spool keeps a record 7 days too. */
export const DEFAULT_ABANDONED_AFTER_S = 7 * 86_400;
const SWEEP_EVERY_S = 3_600;

interface UploadMeta {
  key: string;
  contentType: string;
  partSizeBytes: number;
}

/** Where a completed assembly goes, and how it becomes the artifact (the LocalDiskStore's temp + place). */
export interface LocalPlacement {
  tempPath(): Promise<string>;
  place(upload: { temp: string; size: number }, key: string, contentType: string): Promise<void>;
}

/**
 * The local store's resumable uploads: the same protocol as S3 multipart. A part is PUT to an app-signed URL
 * (`/api/storage-parts/<upload>/<n>`), received into a temp file and renamed to `<n>-<md5>.part` once whole
 * (its ETag is the MD5, as S3's); an interrupted part leaves nothing. A part URL signed with the part's
 * SHA-256 (an upload with part checksums) refuses bytes that do not hash to it, as S3 does. `assemble`
 * concatenates the parts in order while hashing, checks the whole file's size and SHA-256 (the announced one,
 * or the one declared at complete), and only then may it be placed.
 */
export class LocalMultipart implements MultipartStore {
  /** When abandoned uploads were last looked for (s); they are looked for at most hourly, when one starts. */
  #lastSweepS = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly root: string,
    private readonly secret: string,
    private readonly placement: LocalPlacement,
    private readonly nowS: () => number = () => Math.floor(Date.now() / 1000),
    /** An upload nothing was written to for this long is abandoned (`ROBOTRACE_ABANDONED_UPLOAD_MAX_AGE_S`). */
    private readonly abandonedAfterS: number = DEFAULT_ABANDONED_AFTER_S,
  ) {}

  /**
   * Deletes the uploads (`.uploads/<id>`: their parts, received or half-received) nothing was written to for
   * `abandonedAfterS` — a client that never came back to complete or resume. Resolves with their ids. S3 has
   * the bucket's own rule for this (an AbortIncompleteMultipartUpload lifecycle rule, docs/DEPLOY.md).
   */
  async sweepAbandoned(): Promise<string[]> {
    this.#lastSweepS = this.nowS();
    const base = join(this.root, '.uploads');
    const removed: string[] = [];
    for (const id of await readdir(base).catch(() => [] as string[])) {
      if (!UPLOAD_ID.test(id)) continue;
      const dir = join(base, id);
      const lastWriteS = await newestWriteS(dir);
      if (lastWriteS !== null && this.nowS() - lastWriteS > this.abandonedAfterS) {
        await rm(dir, { recursive: true, force: true });
        removed.push(id);
      }
    }
    return removed;
  }

  private dirOf(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new Error('invalid upload id');
    return join(this.root, '.uploads', uploadId);
  }

  async start(key: string, o: { contentType: string; partSizeBytes: number }): Promise<string> {
    // Part checksums need nothing kept here: each part's SHA-256 travels in its signed URL.
    if (this.nowS() - this.#lastSweepS >= SWEEP_EVERY_S) await this.sweepAbandoned().catch(() => undefined);
    const id = randomBytes(12).toString('hex');
    const dir = this.dirOf(id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const meta: UploadMeta = { key, contentType: o.contentType, partSizeBytes: o.partSizeBytes };
    await writeFile(join(dir, 'meta.json'), JSON.stringify(meta));
    return id;
  }

  async signPart(
    key: string,
    uploadId: string,
    partNumber: number,
    o: { expiresInS: number; baseUrl: string; sha256?: string | undefined },
  ): Promise<SignedPartUrl> {
    if ((await this.meta(uploadId))?.key !== key) throw new IntegrityError('no such upload for this slot');
    const expiresAtS = this.nowS() + o.expiresInS;
    const sha256 = o.sha256 ?? null;
    const sig = sign(this.secret, {
      op: 'part',
      key: partKey(uploadId, partNumber, sha256),
      expiresAtS,
      contentType: PART_TYPE,
    });
    const params = new URLSearchParams({ exp: String(expiresAtS), sig, ...(sha256 ? { sha256 } : {}) });
    return {
      url: `${o.baseUrl}/api/storage-parts/${uploadId}/${partNumber}?${params}`,
      expiresAt: new Date(expiresAtS * 1000),
      headers: {},
    };
  }

  /** Checks a part URL's signature (upload id and part number from the path, the part's SHA-256 from the query). */
  check(
    uploadId: string,
    partNumber: number,
    expiresAtS: number,
    signature: string,
    sha256: string | null = null,
  ): SignatureCheck {
    return verify(
      this.secret,
      { op: 'part', key: partKey(uploadId, partNumber, sha256), expiresAtS, contentType: PART_TYPE },
      signature,
      this.nowS(),
    );
  }

  private async meta(uploadId: string): Promise<UploadMeta | null> {
    if (!UPLOAD_ID.test(uploadId)) return null;
    try {
      return JSON.parse(await readFile(join(this.dirOf(uploadId), 'meta.json'), 'utf8')) as UploadMeta;
    } catch {
      return null;
    }
  }

  /**
   * Stores one part (at most the upload's part size; exactly `expectedBytes` when announced). Every byte
   * received is counted in `received.log`, kept or not, so a resumed upload's resends can be measured.
   * With `expectedSha256` (from the signed URL) bytes that do not hash to it are refused and not kept.
   * Resolves with the part's ETag; null when the upload does not exist.
   */
  async receivePart(
    uploadId: string,
    partNumber: number,
    body: Readable,
    expectedBytes: number | null,
    expectedSha256: string | null = null,
  ): Promise<{ etag: string; size: number } | null> {
    const meta = await this.meta(uploadId);
    if (!meta) return null;
    const dir = this.dirOf(uploadId);
    const temp = join(dir, `.${partNumber}.${randomBytes(6).toString('hex')}.tmp`);
    const md5 = createHash('md5');
    const sha = createHash('sha256');
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > meta.partSizeBytes)
          done(new IntegrityError(`a part is at most ${meta.partSizeBytes} bytes`));
        else {
          md5.update(chunk);
          sha.update(chunk);
          done(null, chunk);
        }
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
      if (expectedBytes !== null && size !== expectedBytes)
        throw new IntegrityError(`part was cut short: got ${size} of ${expectedBytes} bytes`);
      const digest = sha.digest('hex');
      if (expectedSha256 !== null && digest !== expectedSha256)
        throw new IntegrityError(`the part's SHA-256 is ${digest}, its URL was signed for ${expectedSha256}`);
      const etag = md5.digest('hex');
      for (const old of await this.partFiles(uploadId))
        if (old.partNumber === partNumber) await rm(join(dir, old.file), { force: true });
      await rename(temp, join(dir, `${partNumber}-${etag}.part`));
      return { etag, size };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    } finally {
      await appendFile(join(dir, 'received.log'), `${size}\n`).catch(() => undefined);
    }
  }

  private async partFiles(uploadId: string): Promise<Array<StoredPart & { file: string }>> {
    const dir = this.dirOf(uploadId);
    const parts: Array<StoredPart & { file: string }> = [];
    for (const file of await readdir(dir)) {
      const m = PART_FILE.exec(file);
      if (!m) continue;
      const info = await stat(join(dir, file)).catch(() => undefined);
      if (info) parts.push({ partNumber: Number(m[1]), etag: m[2] as string, size: info.size, file });
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async listParts(key: string, uploadId: string): Promise<StoredPart[] | null> {
    if ((await this.meta(uploadId))?.key !== key) return null;
    return (await this.partFiles(uploadId)).map(({ partNumber, size, etag }) => ({ partNumber, size, etag }));
  }

  async bytesReceived(uploadId: string): Promise<number | null> {
    try {
      const log = await readFile(join(this.dirOf(uploadId), 'received.log'), 'utf8');
      return log.split('\n').reduce((sum, line) => sum + (Number(line) || 0), 0);
    } catch {
      return 0;
    }
  }

  async assemble(
    key: string,
    uploadId: string,
    parts: Array<{ partNumber: number; etag: string }>,
    expected: { size: number; sha256: string; contentType: string },
  ): Promise<AssembledUpload> {
    const meta = await this.meta(uploadId);
    if (!meta || meta.key !== key) throw new IntegrityError('no such upload for this slot');
    const stored = new Map((await this.partFiles(uploadId)).map((p) => [p.partNumber, p]));
    const files: string[] = [];
    for (const [i, part] of parts.entries()) {
      const have = stored.get(part.partNumber);
      if (part.partNumber !== i + 1) throw new IntegrityError('parts must be numbered 1, 2, 3 … in order');
      if (!have || have.etag !== part.etag.replace(/"/g, ''))
        throw new IntegrityError(`part ${part.partNumber} is not stored with that ETag`);
      files.push(join(this.dirOf(uploadId), have.file));
    }
    const temp = await this.placement.tempPath();
    const sha = createHash('sha256');
    let size = 0;
    try {
      const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
      for (const file of files) {
        await pipeline(
          createReadStream(file),
          new Transform({
            transform(chunk: Buffer, _enc, done) {
              size += chunk.length;
              sha.update(chunk);
              done(null, chunk);
            },
          }),
          out,
          { end: false },
        );
      }
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    const sha256 = sha.digest('hex');
    if (size !== expected.size || sha256 !== expected.sha256) {
      await rm(temp, { force: true });
      throw new IntegrityError(
        `the assembled file is not the announced one: ${size} bytes, SHA-256 ${sha256} (announced ${expected.size} bytes, ${expected.sha256})`,
      );
    }
    return {
      size,
      sha256,
      commit: async () => {
        await this.placement.place({ temp, size }, key, expected.contentType);
        await rm(this.dirOf(uploadId), { recursive: true, force: true });
      },
      discard: () => rm(temp, { force: true }),
    };
  }

  async abort(key: string, uploadId: string): Promise<void> {
    if ((await this.meta(uploadId))?.key !== key) return;
    await rm(this.dirOf(uploadId), { recursive: true, force: true });
  }

  async abortAll(key: string): Promise<void> {
    for (const id of await readdir(join(this.root, '.uploads')).catch(() => [] as string[]))
      if (UPLOAD_ID.test(id)) await this.abort(key, id);
  }
}

/** What a part URL's signature covers: the upload, the part and, with part checksums, the part's SHA-256. */
function partKey(uploadId: string, partNumber: number, sha256: string | null): string {
  return sha256 ? `${uploadId}/${partNumber}/${sha256}` : `${uploadId}/${partNumber}`;
}

/** The last write to an upload directory or any file in it (a part being received is written to), in s. */
async function newestWriteS(dir: string): Promise<number | null> {
  const own = await stat(dir).catch(() => undefined);
  if (!own) return null;
  let newest = own.mtimeMs;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info) newest = Math.max(newest, info.mtimeMs);
  }
  return Math.floor(newest / 1000);
}
