import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AssembledUpload, MultipartStore, SignedUrl, StoredPart } from './port.js';
import { IntegrityError } from './port.js';

function isNoSuchUpload(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * S3 multipart uploads with presigned part URLs: the client PUTs each part straight to the bucket and keeps
 * the ETag it answers; the app lists the parts for a resume and completes the upload. The bucket cannot check
 * a whole-file SHA-256 (multipart checksums are per part), so `assemble` reads the completed object back once
 * and hashes it; a mismatch deletes it.
 */
export class S3Multipart implements MultipartStore {
  constructor(
    private readonly client: S3Client,
    private readonly signer: S3Client,
    private readonly bucket: string,
    private readonly nowMs: () => number,
  ) {}

  async start(key: string, o: { contentType: string }): Promise<string> {
    const out = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: o.contentType }),
    );
    if (!out.UploadId) throw new Error('the bucket answered no UploadId');
    return out.UploadId;
  }

  async signPart(
    key: string,
    uploadId: string,
    partNumber: number,
    o: { expiresInS: number },
  ): Promise<SignedUrl> {
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
    });
    const url = await getSignedUrl(this.signer, command, { expiresIn: o.expiresInS });
    return { url, expiresAt: new Date(this.nowMs() + o.expiresInS * 1000) };
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
    expected: { size: number; sha256: string },
  ): Promise<AssembledUpload> {
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag.replace(/"/g, '')}"` })),
          },
        }),
      );
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'InvalidPart' || name === 'InvalidPartOrder' || name === 'EntityTooSmall')
        throw new IntegrityError(`the bucket refused the parts: ${(err as Error).message}`);
      throw err;
    }
    const remove = async () => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    };
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const sha = createHash('sha256');
    let size = 0;
    for await (const chunk of object.Body as Readable) {
      size += (chunk as Buffer).length;
      sha.update(chunk as Buffer);
    }
    const sha256 = sha.digest('hex');
    if (size !== expected.size || sha256 !== expected.sha256) {
      await remove();
      throw new IntegrityError(
        `the assembled file is not the announced one: ${size} bytes, SHA-256 ${sha256} (announced ${expected.size} bytes, ${expected.sha256})`,
      );
    }
    return { size, sha256, commit: async () => undefined, discard: remove };
  }

  async abort(key: string, uploadId: string): Promise<void> {
    await this.client
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
      .catch((err) => {
        if (!isNoSuchUpload(err)) throw err;
      });
  }
}
