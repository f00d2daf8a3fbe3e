import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ByteSource, openFileSource } from './byte-source.js';

export interface CacheWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Renames the file into place; returns its size. */
  close(): Promise<number>;
  abort(): Promise<void>;
}

/**
 * Decoded copies of arrays that cannot be read in place (deflated zip members, Parquet/Arrow columns), as raw
 * little files on disk, so a window is a ranged read like a stored member. On disk rather than in memory: a
 * decoded member can be larger than the RSS budget. Bounded by bytes; the least recently used artifact's copies
 * are dropped first and rebuilt from the artifact when next needed. Derived data only: cleared at start.
 */
export class ColumnCache {
  private readonly used = new Map<string, { bytes: number; at: number }>();
  private readonly building = new Map<string, Promise<void>>();
  private tick = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** Empties the cache directory (call once at start). */
  async init(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
  }

  private dirOf(artifactKey: string): string {
    return join(this.dir, createHash('sha256').update(artifactKey).digest('hex').slice(0, 32));
  }

  private static fileName(member: string): string {
    // Hashed as the index stores it (NUL → U+FFFD, see service.ts), so the raw and the stored name find one file.
    const stored = member.replaceAll('\u0000', '\ufffd');
    return `${createHash('sha256').update(stored).digest('hex').slice(0, 32)}.bin`;
  }

  /** Writes one decoded array (temp file + rename: a reader never sees half a file). */
  async write(artifactKey: string, member: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    const writer = await this.writer(artifactKey, member);
    try {
      for await (const chunk of chunks) await writer.write(chunk);
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return writer.close();
  }

  /** A push-style writer, for readers that produce several columns at once (record batches, row groups). */
  async writer(artifactKey: string, member: string): Promise<CacheWriter> {
    const dir = this.dirOf(artifactKey);
    await mkdir(dir, { recursive: true });
    const final = join(dir, ColumnCache.fileName(member));
    const temp = `${final}.${randomBytes(6).toString('hex')}.part`;
    const out = createWriteStream(temp);
    let bytes = 0;
    return {
      write: async (chunk) => {
        bytes += chunk.byteLength;
        if (!out.write(chunk)) await once(out, 'drain');
      },
      abort: async () => {
        // Closed first: a stream destroyed before its open finished still creates the file, after an rm that
        // ran at once (the unit test saw a .part left behind under load).
        if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()).destroy());
        await rm(temp, { force: true });
      },
      close: async () => {
        out.end();
        await once(out, 'finish');
        await rename(temp, final);
        this.account(artifactKey, bytes);
        await this.evict(artifactKey);
        return bytes;
      },
    };
  }

  /** The cached copy, or null when it is not (or no longer) there. */
  async open(artifactKey: string, member: string): Promise<ByteSource | null> {
    const path = join(this.dirOf(artifactKey), ColumnCache.fileName(member));
    try {
      await stat(path);
    } catch {
      return null;
    }
    this.account(artifactKey, 0);
    return openFileSource(path);
  }

  /** Runs `build` once even when several windows ask for the same missing copy at the same time. */
  async rebuild(artifactKey: string, member: string, build: () => Promise<void>): Promise<void> {
    const key = `${artifactKey}\u0000${member}`;
    let pending = this.building.get(key);
    if (!pending) {
      pending = build().finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    await pending;
  }

  /** Drops every copy of one artifact (re-indexed or deleted). */
  async forget(artifactKey: string): Promise<void> {
    this.used.delete(artifactKey);
    await rm(this.dirOf(artifactKey), { recursive: true, force: true });
  }

  /**
   * Drops the copies of every index of one stored file (`<project>/<episode>/<kind>`: artifact keys are that
   * plus `@<indexed at>`), when the file is deleted. Every copy on disk is in `used`: the directory is emptied
   * at start and only this process writes it.
   */
  async forgetFile(storageKey: string): Promise<void> {
    for (const key of [...this.used.keys()]) if (key.startsWith(`${storageKey}@`)) await this.forget(key);
  }

  private account(artifactKey: string, addBytes: number): void {
    const entry = this.used.get(artifactKey) ?? { bytes: 0, at: 0 };
    entry.bytes += addBytes;
    entry.at = ++this.tick;
    this.used.set(artifactKey, entry);
  }

  private async evict(keep: string): Promise<void> {
    let total = 0;
    for (const e of this.used.values()) total += e.bytes;
    const oldest = [...this.used.entries()].filter(([k]) => k !== keep).sort((a, b) => a[1].at - b[1].at);
    for (const [key, entry] of oldest) {
      if (total <= this.maxBytes) break;
      total -= entry.bytes;
      await this.forget(key);
    }
  }
}
