import { open } from 'node:fs/promises';

/**
 * Ranged reads over one stored file. Readers only ever ask for the bytes they need, so a track file is never
 * read whole into memory; a local file, a buffer (tests) or an object store's ranged GET can sit behind it.
 */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes from `offset`, fewer only at the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: reads up to `target.byteLength` bytes from `offset` into `target`, returning how many (fewer only
   * at the end of the file). Lets a scan reuse one buffer instead of allocating a fresh one per chunk.
   */
  readInto?(offset: number, target: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

/** A local file read with fs positional reads (one file handle, no stream). */
export async function openFileSource(path: string): Promise<ByteSource> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const readInto = async (offset: number, target: Uint8Array) => {
      const want = Math.max(0, Math.min(target.byteLength, size - offset));
      let done = 0;
      while (done < want) {
        const { bytesRead } = await handle.read(target, done, want - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    };
    return {
      size,
      async read(offset, length) {
        const buf = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
        const done = await readInto(offset, buf);
        return done === buf.byteLength ? buf : buf.subarray(0, done);
      },
      readInto,
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

/**
 * Like readChunks, but every chunk is a view of one buffer, refilled for the next: the caller must be done with
 * a chunk (copy what it keeps) before asking for the next. A scan over a whole file then allocates one buffer,
 * not one per MiB: on a 6 MiB file the fresh buffers' garbage collection cost more than the reads.
 */
export async function* readChunksReusing(
  source: ByteSource,
  offset: number,
  length: number,
  chunkBytes = 1 << 20,
): AsyncGenerator<Uint8Array> {
  const readInto = source.readInto;
  if (!readInto) {
    yield* readChunks(source, offset, length, chunkBytes);
    return;
  }
  const end = Math.min(source.size, offset + length);
  const buffer = new Uint8Array(Math.max(0, Math.min(chunkBytes, end - offset)));
  for (let pos = offset; pos < end; pos += chunkBytes) {
    const got = await readInto.call(source, pos, buffer.subarray(0, Math.min(chunkBytes, end - pos)));
    if (got === 0) return;
    yield buffer.subarray(0, got);
  }
}

/** Ranged reads of artifacts kept on the local disk (LocalDiskStore maps a storage key to its path). */
export function localArtifactOpener(store: {
  pathOf(key: string): string;
}): (key: string) => Promise<ByteSource> {
  return (key) => openFileSource(store.pathOf(key));
}
