import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ArtifactStore, SignedUrl, StoredObject } from './port.js';
import { S3Multipart } from './s3-multipart.js';

export interface S3StoreOptions {
  bucket: string;
  region: string;
  /** The S3 API the app talks to (MinIO, moto, R2…); omitted = AWS S3 itself. */
  endpoint?: string;
  /**
   * Where clients reach the bucket, when that differs from `endpoint` (e.g. the app talks to `http://minio:9000`
   * inside a container network while robots use `https://s3.lab.example`). Presigned URLs are signed for this host.
   */
  publicEndpoint?: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key` (MinIO and most emulators need it). */
  forcePathStyle?: boolean;
  /** Omitted = the AWS default chain (env, profile, instance or task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Per-request timeout of the app's own calls (HEAD, DELETE); presigned transfers are not affected. */
  requestTimeoutMs?: number;
}

/** Content types that may be served inline; anything else is forced to download (a stored HTML file never renders). */
const INLINE_TYPES = /^(video|audio|image)\/[a-z0-9.+-]+$/;

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Artifacts in an S3-compatible bucket. Clients PUT and GET straight against the bucket through presigned URLs,
 * so the app never carries artifact bytes. The PUT signs the slot's Content-Type: an upload with another type
 * fails the signature at the bucket. A presigned PUT cannot cap the body size; the core enforces the size limit
 * when it stats the object at finalize (see docs/DEPLOY.md).
 */
export class S3Store implements ArtifactStore {
  readonly kind = 's3' as const;
  /** Resumable uploads: multipart with presigned part URLs (s3-multipart.ts). */
  readonly multipart: S3Multipart;
  private readonly client: S3Client;
  private readonly signer: S3Client;

  constructor(
    private readonly options: S3StoreOptions,
    private readonly nowMs: () => number = () => Date.now(),
  ) {
    const base = {
      region: options.region,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials: options.credentials,
      // Checksums computed by the SDK would be signed into presigned URLs for an empty body; the client's
      // real body would then fail them. Only send checksums where S3 requires one.
      requestChecksumCalculation: 'WHEN_REQUIRED' as const,
      responseChecksumValidation: 'WHEN_REQUIRED' as const,
    };
    this.client = new S3Client({
      ...base,
      endpoint: options.endpoint,
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 10_000, connectionTimeout: 5_000 },
    });
    this.signer =
      options.publicEndpoint && options.publicEndpoint !== options.endpoint
        ? new S3Client({ ...base, endpoint: options.publicEndpoint })
        : this.client;
    this.multipart = new S3Multipart(this.client, this.signer, options.bucket, nowMs);
  }

  private expiry(expiresInS: number, issuedAt?: Date): Date {
    return new Date((issuedAt?.getTime() ?? this.nowMs()) + expiresInS * 1000);
  }

  async signUpload(
    key: string,
    o: { contentType: string; expiresInS: number; issuedAt?: Date },
  ): Promise<SignedUrl> {
    const command = new PutObjectCommand({
      Bucket: this.options.bucket,
      Key: key,
      ContentType: o.contentType,
    });
    const url = await getSignedUrl(this.signer, command, {
      expiresIn: o.expiresInS,
      // The presigner leaves Content-Type unsigned by default; signing it binds the URL to the slot's type.
      signableHeaders: new Set(['content-type']),
      ...(o.issuedAt ? { signingDate: o.issuedAt } : {}),
    });
    return { url, expiresAt: this.expiry(o.expiresInS, o.issuedAt) };
  }

  async signDownload(
    key: string,
    o: { expiresInS: number; contentType?: string | null },
  ): Promise<SignedUrl> {
    const type = o.contentType ?? 'application/octet-stream';
    const disposition = INLINE_TYPES.test(type) ? 'inline' : 'attachment';
    const command = new GetObjectCommand({
      Bucket: this.options.bucket,
      Key: key,
      ResponseContentType: type,
      ResponseContentDisposition: disposition,
    });
    const url = await getSignedUrl(this.signer, command, { expiresIn: o.expiresInS });
    return { url, expiresAt: this.expiry(o.expiresInS) };
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return { size: head.ContentLength ?? 0, contentType: head.ContentType ?? null };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** One ranged GET; a missing object rejects with code ENOENT, like the local store. */
  async readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Range: `bytes=${offset}-${offset + length - 1}`,
        }),
      );
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
    } catch (err) {
      // A range starting at or past the end: no bytes, as a file read there gives.
      if ((err as { name?: string }).name === 'InvalidRange') return new Uint8Array(0);
      if (isNotFound(err)) throw Object.assign(new Error(`No stored object ${key}`), { code: 'ENOENT' });
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
  }

  /** Closes the client's keep-alive sockets (at shutdown). */
  close(): void {
    this.client.destroy();
    if (this.signer !== this.client) this.signer.destroy();
  }
}
