import type { ResolvedConfig } from '../config.js';
import { Transport } from '../http/transport.js';
import { uploadFile, uploadPart } from '../upload.js';
import { SDK_VERSION } from '../version.js';
import type { DeliveryBackend } from './deliver.js';
import { detachedFetch } from './detached-fetch.js';
import { SpoolStore } from './store.js';

/**
 * What delivering a spool needs, from a client's configuration. Unless the caller brought its own `fetch`,
 * requests go through `detachedFetch` (unref'd sockets): delivery never keeps the process alive.
 */
export function deliveryBackend(
  config: ResolvedConfig,
  userAgent: string,
  fetchImpl: typeof fetch | undefined,
): DeliveryBackend {
  const deliveryFetch = fetchImpl ?? detachedFetch;
  const transport = new Transport({
    apiKey: config.apiKey,
    baseUrl: config.baseUrl,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    userAgent,
    sdkVersion: SDK_VERSION,
    fetch: deliveryFetch,
  });
  return {
    transport,
    baseUrl: config.baseUrl,
    multipartThresholdBytes: config.multipartThresholdBytes,
    uploadPart: (kind, url, part) =>
      uploadPart({
        kind,
        url: new URL(url, `${config.baseUrl}/`).toString(),
        fetch: deliveryFetch,
        idleTimeoutMs: config.uploadTimeoutMs,
        maxRetries: config.maxRetries,
        userAgent,
        ...part,
      }),
    upload: (kind, path, url) =>
      uploadFile({
        kind,
        path,
        url: new URL(url, `${config.baseUrl}/`).toString(),
        fetch: deliveryFetch,
        idleTimeoutMs: config.uploadTimeoutMs,
        maxRetries: config.maxRetries,
        userAgent,
      }),
  };
}

export function spoolStoreFor(config: ResolvedConfig): SpoolStore {
  return new SpoolStore(config.spoolDir, { maxBytes: config.spoolMaxBytes, maxAgeS: config.spoolMaxAgeS });
}
