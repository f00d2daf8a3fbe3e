import { createInflateRaw } from 'node:zlib';
import { type ByteSource, readChunks } from './byte-source.js';

/** Why a file could not be read as a zip archive (message goes into a track warning). */
export class ZipError extends Error {}

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate; anything else is listed but not read. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const MAX_COMMENT = 0xffff;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u64 = (v: DataView, at: number) => Number(v.getBigUint64(at, true));

/** Reads the central directory only (the end of the file), ZIP64 included. */
export async function readZipDirectory(source: ByteSource): Promise<ZipEntry[]> {
  const tailLen = Math.min(source.size, 22 + MAX_COMMENT);
  const tailStart = source.size - tailLen;
  const tail = await source.read(tailStart, tailLen);
  const tv = view(tail);
  let eocd = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('truncated or not a zip archive (no end-of-central-directory record)');
  let count = tv.getUint16(eocd + 10, true);
  let dirSize = tv.getUint32(eocd + 12, true);
  let dirOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    const locAt = tailStart + eocd - 20;
    const loc = locAt >= 0 ? view(await source.read(locAt, 20)) : null;
    if (!loc || loc.byteLength < 20 || loc.getUint32(0, true) !== ZIP64_LOCATOR_SIG)
      throw new ZipError('ZIP64 archive without its locator');
    const z64At = u64(loc, 8);
    const z64 = view(await source.read(z64At, 56));
    if (z64.byteLength < 56 || z64.getUint32(0, true) !== ZIP64_EOCD_SIG)
      throw new ZipError('truncated ZIP64 end-of-central-directory record');
    count = u64(z64, 32);
    dirSize = u64(z64, 40);
    dirOffset = u64(z64, 48);
  }
  if (dirOffset + dirSize > source.size) throw new ZipError('truncated (central directory past the end)');
  // The directory is small next to the data (≈ 100 bytes a member); cap it so a hostile count cannot blow memory.
  if (dirSize > 64 << 20) throw new ZipError('central directory larger than 64 MiB');
  const dir = await source.read(dirOffset, dirSize);
  const dv = view(dir);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.byteLength || dv.getUint32(p, true) !== CENTRAL_SIG)
      throw new ZipError('corrupt central directory');
    const method = dv.getUint16(p + 10, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(dir.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extra field: the 64-bit values follow in this order, only for the fields that are saturated.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = u64(dv, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(dv, q);
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(dv, q);
      }
      e += 4 + len;
    }
    entries.push({ name, method, compressedSize, size, localHeaderOffset });
    p = extraEnd + commentLen;
  }
  return entries;
}

/** Offset of a member's data: after its local header, whose name/extra lengths may differ from the directory's. */
export async function memberDataOffset(source: ByteSource, entry: ZipEntry): Promise<number> {
  const h = view(await source.read(entry.localHeaderOffset, 30));
  if (h.byteLength < 30 || h.getUint32(0, true) !== LOCAL_SIG)
    throw new ZipError(`member '${entry.name}': bad local header`);
  const start = entry.localHeaderOffset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
  if (start + entry.compressedSize > source.size) throw new ZipError(`member '${entry.name}' is truncated`);
  return start;
}

/** The member's uncompressed bytes, streamed chunk by chunk (deflate decoded with node:zlib as it goes). */
export async function* memberChunks(
  source: ByteSource,
  entry: ZipEntry,
  dataOffset: number,
): AsyncGenerator<Uint8Array> {
  const raw = readChunks(source, dataOffset, entry.compressedSize);
  if (entry.method === 0) {
    yield* raw;
    return;
  }
  if (entry.method !== 8)
    throw new ZipError(`member '${entry.name}' uses compression method ${entry.method}`);
  const inflate = createInflateRaw();
  const out: Buffer[] = [];
  let failed: Error | null = null;
  let ended = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    wake?.();
    wake = null;
  };
  inflate.on('data', (c: Buffer) => {
    out.push(c);
    // Bounded: stop zlib producing while the consumer is behind.
    if (out.length > 8) inflate.pause();
    poke();
  });
  inflate.on('error', (e: Error) => {
    failed = e;
    poke();
  });
  inflate.on('end', () => {
    ended = true;
    poke();
  });
  const feeding = (async () => {
    for await (const chunk of raw) {
      if (failed) return;
      // Back-pressure: wait for zlib to drain before feeding more, so memory stays at a few chunks.
      if (!inflate.write(chunk)) await new Promise<void>((r) => inflate.once('drain', () => r()));
    }
    inflate.end();
  })();
  feeding.catch((e: Error) => {
    failed = e;
    poke();
  });
  try {
    while (true) {
      const next = out.shift();
      if (next) {
        if (out.length < 2) inflate.resume();
        yield next;
        continue;
      }
      if (failed) throw new ZipError(`member '${entry.name}': ${(failed as Error).message}`);
      if (ended) return;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  } finally {
    inflate.destroy();
  }
}
