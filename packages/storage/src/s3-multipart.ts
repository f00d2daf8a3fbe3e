import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AssembledUpload, MultipartStore, SignedPartUrl, StoredPart } from './port.js';
import { IntegrityError } from './port.js';

const CHECKSUM_HEADER = 'x-amz-checksum-sha256';

function isNoSuchUpload(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * S3 multipart uploads with presigned part URLs: the client PUTs each part straight to the bucket and keeps
 * the ETag it answers; the app lists the parts for a resume and completes the upload.
 *
 * Integrity, two ways. An upload started with part checksums (`ChecksumAlgorithm: SHA256`) has each part's
 * SHA-256 signed into its URL as `x-amz-checksum-sha256`: S3 refuses a part whose bytes do not hash to it
 * (BadDigest), and the completed object carries S3's composite checksum, SHA-256 of the parts' SHA-256s
 * concatenated in order. `assemble` then checks, without reading the object back: every part's size (all
 * `partSizeBytes` but the last, so the parts are the file's byte ranges), the object's size, and that S3's
 * composite equals the one of the part hashes the client declared. Since the client hashed each range of its
 * file, the stored object is that file (a difference would be a SHA-256 collision); the whole-file SHA-256 is
 * the client's, computed in the same read. An upload started without (an older client that announced the
 * whole SHA-256 at start) is read back once and hashed; a mismatch deletes it.
 */
export class S3Multipart implements MultipartStore {
  /** Completes in flight, by upload id. */
  readonly #completing = new Map<string, Promise<void>>();

  constructor(
    private readonly client: S3Client,
    private readonly signer: S3Client,
    private readonly bucket: string,
    private readonly nowMs: () => number,
  ) {}

  async start(key: string, o: { contentType: string; partChecksums: boolean }): Promise<string> {
    const out = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: o.contentType,
        ...(o.partChecksums ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
      }),
    );
    if (!out.UploadId) throw new Error('the bucket answered no UploadId');
    return out.UploadId;
  }

  async signPart(
    key: string,
    uploadId: string,
    partNumber: number,
    o: { expiresInS: number; sha256?: string | undefined },
  ): Promise<SignedPartUrl> {
    const checksum = o.sha256 ? Buffer.from(o.sha256, 'hex').toString('base64') : undefined;
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      ...(checksum ? { ChecksumSHA256: checksum } : {}),
    });
    // The checksum stays a signed header (not hoisted into the query): S3 checks the body against it.
    const url = await getSignedUrl(this.signer, command, {
      expiresIn: o.expiresInS,
      unhoistableHeaders: new Set([CHECKSUM_HEADER]),
    });
    return {
      url,
      expiresAt: new Date(this.nowMs() + o.expiresInS * 1000),
      headers: checksum ? { [CHECKSUM_HEADER]: checksum } : {},
    };
  }

  async listParts(key: string, uploadId: string): Promise<StoredPart[] | null> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const p of page.Parts ?? [])
          parts.push({
            partNumber: p.PartNumber ?? 0,
            size: p.Size ?? 0,
            etag: (p.ETag ?? '').replace(/"/g, ''),
          });
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (err) {
      if (isNoSuchUpload(err)) return null;
      throw err;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async bytesReceived(): Promise<number | null> {
    return null; // the bucket does not say how often a part was sent
  }

  async assemble(
    key: string,
    uploadId: string,
    parts: Array<{ partNumber: number; etag: string }>,
    expected: { size: number; sha256: string; partSizeBytes: number; partSha256?: string[] | undefined },
  ): Promise<AssembledUpload> {
    const hashes = expected.partSha256;
    if (hashes) await this.checkPartSizes(key, uploadId, parts.length, expected);
    // One CompleteMultipartUpload per upload at a time in this process: a client retrying a complete that
    // outlasted the API deadline (a big assemble) waits for the first, then checks the object, instead of
    // racing it in the bucket.
    const running = this.#completing.get(uploadId);
    if (running) await running.catch(() => undefined);
    else {
      const completing = this.complete(key, uploadId, parts, hashes);
      this.#completing.set(uploadId, completing);
      try {
        await completing;
      } finally {
        this.#completing.delete(uploadId);
      }
    }
    const remove = async () => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    };
    const found = await (hashes ? this.composite(key) : this.readBack(key)).catch((err: unknown) => {
      throw isNoSuchUpload(err) || (err as { name?: string }).name === 'NoSuchKey'
        ? new IntegrityError('no such upload (completed, aborted or expired)')
        : err;
    });
    const wanted = hashes
      ? { size: expected.size, digest: compositeOf(hashes) }
      : { size: expected.size, digest: expected.sha256 };
    if (found.size !== wanted.size || found.digest !== wanted.digest) {
      await remove();
      throw new IntegrityError(
        `the assembled file is not the announced one: ${found.size} bytes, ${found.what} ${found.digest} (announced ${wanted.size} bytes, ${wanted.digest})`,
      );
    }
    return { size: found.size, sha256: expected.sha256, commit: async () => undefined, discard: remove };
  }

  private async complete(
    key: string,
    uploadId: string,
    parts: Array<{ partNumber: number; etag: string }>,
    hashes: string[] | undefined,
  ): Promise<void> {
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map((p, i) => ({
              PartNumber: p.partNumber,
              ETag: `"${p.etag.replace(/"/g, '')}"`,
              ...(hashes ? { ChecksumSHA256: Buffer.from(hashes[i] ?? '', 'hex').toString('base64') } : {}),
            })),
          },
        }),
      );
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (
        name === 'InvalidPart' ||
        name === 'InvalidPartOrder' ||
        name === 'EntityTooSmall' ||
        name === 'BadDigest' ||
        name === 'InvalidRequest'
      )
        throw new IntegrityError(`the bucket refused the parts: ${(err as Error).message}`);
      // No such upload: completed already when this is a retried complete whose first answer was lost (a
      // big complete can outlast the client's timeout). assemble then checks the object, if there, like any.
      if (!isNoSuchUpload(err)) throw err;
    }
  }

  /** Each part but the last is exactly the part size, so part i is the file's i-th range (checked before complete). */
  private async checkPartSizes(
    key: string,
    uploadId: string,
    count: number,
    expected: { size: number; partSizeBytes: number },
  ): Promise<void> {
    const stored = await this.listParts(key, uploadId);
    // Gone: completed by an earlier complete (a retry), or aborted. The object check after complete decides.
    if (!stored) return;
    const p = expected.partSizeBytes;
    for (let n = 1; n <= count; n++) {
      const want = n < count ? p : expected.size - (count - 1) * p;
      const have = stored.find((s) => s.partNumber === n)?.size;
      if (have !== want)
        throw new IntegrityError(`part ${n} is ${have ?? 'missing'} bytes; it must be ${want} bytes`);
    }
  }

  /** S3's composite checksum of the stored parts (no read-back): SHA-256 of their SHA-256s, as hex. */
  private async composite(key: string): Promise<{ size: number; digest: string; what: string }> {
    const head = await this.client.send(
      new HeadObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' }),
    );
    // S3 writes it `<base64>-<part count>`; the count is checked by the part list already.
    const b64 = (head.ChecksumSHA256 ?? '').replace(/-\d+$/, '');
    return {
      size: head.ContentLength ?? -1,
      digest: Buffer.from(b64, 'base64').toString('hex'),
      what: 'composite SHA-256 of the parts',
    };
  }

  /** The whole object read back once and hashed (uploads started without part checksums). */
  private async readBack(key: string): Promise<{ size: number; digest: string; what: string }> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const sha = createHash('sha256');
    let size = 0;
    for await (const chunk of object.Body as Readable) {
      size += (chunk as Buffer).length;
      sha.update(chunk as Buffer);
    }
    return { size, digest: sha.digest('hex'), what: 'SHA-256' };
  }

  async abort(key: string, uploadId: string): Promise<void> {
    await this.client
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
      .catch((err) => {
        if (!isNoSuchUpload(err)) throw err;
      });
  }

  /** Lists the bucket's uploads in progress under `key` (a page at a time) and aborts those of exactly `key`. */
  async abortAll(key: string): Promise<void> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: key,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
        }),
      );
      for (const upload of page.Uploads ?? [])
        if (upload.Key === key && upload.UploadId) await this.abort(key, upload.UploadId);
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }
}

/** SHA-256 of the parts' SHA-256 digests concatenated in order (S3's composite checksum), as hex. */
export function compositeOf(partSha256: string[]): string {
  const outer = createHash('sha256');
  for (const hex of partSha256) outer.update(Buffer.from(hex, 'hex'));
  return outer.digest('hex');
}
