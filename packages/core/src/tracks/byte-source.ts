import { open } from 'node:fs/promises';

/**
 * Ranged reads over one stored file. Readers only ever ask for the bytes they need, so a track file is never
 * read whole into memory; a local file, a buffer (tests) or an object store's ranged GET can sit behind it.
 */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes from `offset`, fewer only at the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A local file read with fs positional reads (one file handle, no stream). */
export async function openFileSource(path: string): Promise<ByteSource> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return {
      size,
      async read(offset, length) {
        const want = Math.max(0, Math.min(length, size - offset));
        const buf = Buffer.allocUnsafe(want);
        let done = 0;
        while (done < want) {
          const { bytesRead } = await handle.read(buf, done, want - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done === want ? buf : buf.subarray(0, done);
      },
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** An in-memory source (tests, tiny files). */
export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, Math.min(bytes.byteLength, offset + length)),
    close: async () => {},
  };
}

/** Streams `length` bytes from `offset` in chunks, so a caller never holds more than one chunk. */
export async function* readChunks(
  source: ByteSource,
  offset: number,
  length: number,
  chunkBytes = 1 << 20,
): AsyncGenerator<Uint8Array> {
  const end = Math.min(source.size, offset + length);
  for (let pos = offset; pos < end; pos += chunkBytes) {
    const chunk = await source.read(pos, Math.min(chunkBytes, end - pos));
    if (chunk.byteLength === 0) return;
    yield chunk;
  }
}

/** Ranged reads of artifacts kept on the local disk (LocalDiskStore maps a storage key to its path). */
export function localArtifactOpener(store: {
  pathOf(key: string): string;
}): (key: string) => Promise<ByteSource> {
  return (key) => openFileSource(store.pathOf(key));
}
