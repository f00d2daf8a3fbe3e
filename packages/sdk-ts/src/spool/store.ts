import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { copyFile, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  CorruptRecordError,
  DEFAULT_MAX_AGE_S,
  DEFAULT_MAX_BYTES,
  parseRecord,
  RECORD_ID,
  type Receipt,
  recordCreatedMs,
  recordSize,
  recordToJson,
  type SpoolFile,
  type SpoolRecord,
  type SpoolState,
} from './record.js';

const AREAS = ['tmp', 'waiting', 'parked', 'delivered', 'claims'] as const;
type Area = (typeof AREAS)[number];
const FOREIGN_CLAIM_STALE_MS = 3_600_000;
const TMP_STALE_MS = 3_600_000;
const HOST = hostname();

/** The spool could not take a record (full, not writable); the message is for the user. */
export class SpoolRefusedError extends Error {
  override name = 'SpoolRefusedError';
}

/** A file the record needs is gone, or no longer the file that was logged. */
export class FileGoneError extends Error {
  override name = 'FileGoneError';
}

export interface SpoolBounds {
  maxBytes?: number;
  maxAgeS?: number;
}

/**
 * One spool directory (spec/SPOOL.md). A record appears by renaming its finished directory from tmp/ into
 * waiting/, and its state is replaced by rename, so a `kill -9` at any instant leaves the old or the new
 * version. `add` runs on the caller's thread without waiting for the disk (the call returns in well under
 * 2 ms); the worker fsyncs the record right after (`makeDurable`).
 */
export class SpoolStore {
  readonly v1: string;
  readonly maxBytes: number;
  readonly maxAgeS: number;
  #used: number | undefined;
  #ensured = false;

  constructor(
    readonly root: string,
    bounds: SpoolBounds = {},
  ) {
    this.v1 = join(root, 'v1');
    this.maxBytes = bounds.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxAgeS = bounds.maxAgeS ?? DEFAULT_MAX_AGE_S;
  }

  dir(area: Area, ...names: string[]): string {
    return join(this.v1, area, ...names);
  }

  ensure(): void {
    if (this.#ensured) return;
    for (const area of AREAS) mkdirSync(this.dir(area), { recursive: true, mode: 0o700 });
    this.#ensured = true;
  }

  /** Stores a record, files hard-linked when possible. Throws SpoolRefusedError when it cannot. */
  add(record: SpoolRecord, createdBy: string): void {
    const size = recordSize(record);
    let used: number;
    try {
      this.ensure();
      used = this.usedBytes();
      if (used + size > this.maxBytes) {
        throw new SpoolRefusedError(
          `the spool at ${this.root} is full (${used} of ${this.maxBytes} bytes in use; this episode needs ${size}); raise ROBOTRACE_SPOOL_MAX_BYTES or run \`robotrace sync\``,
        );
      }
      const tmp = this.dir('tmp', record.id);
      mkdirSync(tmp, { mode: 0o700 });
      for (const f of record.files) {
        try {
          linkSync(f.source, join(tmp, f.kind));
        } catch {
          // Another filesystem, or links not allowed: the worker copies it (spec/SPOOL.md).
        }
      }
      writeFileAtomicSync(join(tmp, 'record.json'), JSON.stringify(recordToJson(record, createdBy)), false);
      renameSync(tmp, this.dir('waiting', record.id));
    } catch (error) {
      if (error instanceof SpoolRefusedError) throw error;
      this.#ensured = false; // the directory may have been removed: make it again next time
      throw new SpoolRefusedError(
        `the spool at ${this.root} cannot be written (${(error as Error).message})`,
      );
    }
    this.#used = used + size;
  }

  /**
   * fsyncs records `add` wrote without waiting for the disk: each record.json and directory, then waiting/
   * once. Hard-linked files are the user's own bytes, as durable as the user's file (fsyncing a just-written
   * 100 MB video would stall the disk for everyone); copies are fsynced when made.
   */
  async makeDurable(ids: string[]): Promise<void> {
    for (const id of ids) {
      await fsyncPath(this.dir('waiting', id, 'record.json')).catch(() => undefined);
      await fsyncPath(this.dir('waiting', id)).catch(() => undefined);
    }
    await fsyncPath(this.dir('waiting'));
  }

  usedBytes(): number {
    if (this.#used === undefined) {
      let total = 0;
      for (const area of ['waiting', 'parked'] as const) {
        for (const id of this.ids(area)) {
          try {
            total += recordSize(parseRecord(readFileSync(this.dir(area, id, 'record.json'), 'utf8')));
          } catch {
            // A corrupt record: parked by the worker; its files are counted then.
          }
        }
      }
      this.#used = total;
    }
    return this.#used;
  }

  forgetUsage(): void {
    this.#used = undefined;
  }

  ids(area: Area): string[] {
    try {
      return readdirSync(this.dir(area))
        .filter((n) => !n.startsWith('.'))
        .sort();
    } catch {
      return [];
    }
  }

  async load(id: string, area: Area = 'waiting'): Promise<SpoolRecord> {
    let text: string;
    try {
      text = await readFile(this.dir(area, id, 'record.json'), 'utf8');
    } catch {
      throw new CorruptRecordError('record.json is missing');
    }
    return parseRecord(text);
  }

  async state(id: string, area: Area = 'waiting'): Promise<SpoolState> {
    try {
      const raw: unknown = JSON.parse(await readFile(this.dir(area, id, 'state.json'), 'utf8'));
      return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as SpoolState) : {};
    } catch {
      return {};
    }
  }

  /** Not fsynced: a state lost to a power cut only redoes a step, which the Idempotency-Keys make a no-op. */
  saveState(id: string, state: SpoolState): Promise<void> {
    return writeFileAtomic(this.dir('waiting', id, 'state.json'), JSON.stringify(state), false);
  }

  /** The spool's own copy of a file, copied from its source first when it is not there yet. */
  async filePath(record: SpoolRecord, f: SpoolFile): Promise<string> {
    const own = this.dir('waiting', record.id, f.kind);
    const info = await stat(own).catch(() => undefined);
    if (info) {
      if (info.size !== f.size)
        throw new FileGoneError(`${f.kind} file ${f.name} changed size since it was logged`);
      return own;
    }
    const part = `${own}.part`;
    try {
      await copyFile(f.source, part);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new FileGoneError(`file deleted before delivery: ${f.kind} ${f.source}`);
      throw error;
    }
    if ((await stat(part)).size !== f.size) {
      await unlink(part).catch(() => undefined);
      throw new FileGoneError(`${f.kind} file ${f.source} changed size since it was logged`);
    }
    await fsyncPath(part);
    await rename(part, own);
    return own;
  }

  async park(id: string, reason: string): Promise<void> {
    const state = await this.state(id);
    state.parked_reason = reason.slice(0, 2000);
    state.parked_at = new Date().toISOString();
    await this.saveState(id, state).catch(() => undefined);
    await rename(this.dir('waiting', id), this.dir('parked', id));
  }

  /**
   * `robotrace spool retry`: a parked record back to waiting/, its failure forgotten (attempts, reason) and
   * its progress kept (a created episode is not created again). False when there is no such parked record.
   */
  async retry(id: string): Promise<boolean> {
    if (!RECORD_ID.test(id) || !existsSync(this.dir('parked', id))) return false;
    const state = await this.state(id, 'parked');
    delete state.parked_reason;
    delete state.parked_at;
    delete state.attempts;
    delete state.last_error;
    state.retried_at = new Date().toISOString();
    await writeFileAtomic(this.dir('parked', id, 'state.json'), JSON.stringify(state), false);
    try {
      await rename(this.dir('parked', id), this.dir('waiting', id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // purged or retried meanwhile
      throw error;
    }
    return true;
  }

  /** When `robotrace spool retry` put this waiting record back (0: never). */
  private async retriedAtMs(id: string): Promise<number> {
    return Date.parse((await this.state(id)).retried_at ?? '') || 0;
  }

  /** `robotrace spool purge`: deletes a parked record and its files. False when there is no such one. */
  async purge(id: string): Promise<boolean> {
    if (!RECORD_ID.test(id) || !existsSync(this.dir('parked', id))) return false;
    // Renamed away first (as a delivered record), so a crash mid-removal leaves nothing half-deleted in parked/.
    const gone = this.dir('tmp', `${id}.done`);
    try {
      await rename(this.dir('parked', id), gone);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    await rm(gone, { recursive: true, force: true });
    this.#used = undefined;
    return true;
  }

  async delivered(id: string, receipt: Receipt, size: number): Promise<void> {
    await writeFileAtomic(this.dir('delivered', `${id}.json`), JSON.stringify(receipt), false);
    // Renamed away first, so a crash mid-removal never leaves a half-deleted record in waiting/.
    const gone = this.dir('tmp', `${id}.done`);
    await rename(this.dir('waiting', id), gone);
    await rm(gone, { recursive: true, force: true });
    if (this.#used !== undefined) this.#used = Math.max(0, this.#used - size);
  }

  claim(id: string): boolean {
    const path = this.dir('claims', id);
    for (let i = 0; i < 2; i++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !claimStale(path)) return false;
        unlinkSyncQuiet(path);
        continue;
      }
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, host: HOST, at: Date.now() / 1000 }));
      } finally {
        closeSync(fd);
      }
      // Listed before another process delivered (or parked) it and released its claim: nothing to do.
      if (!existsSync(this.dir('waiting', id))) {
        this.release(id);
        return false;
      }
      return true;
    }
    return false;
  }

  release(id: string): void {
    unlinkSyncQuiet(this.dir('claims', id));
  }

  /** Parks waiting records past the max age; deletes old parked records, receipts and tmp left-overs. */
  async sweep(): Promise<string[]> {
    const now = Date.now();
    const maxAgeMs = this.maxAgeS * 1000;
    const expired: string[] = [];
    for (const id of this.ids('waiting')) {
      const old = now - recordCreatedMs(id) > maxAgeMs;
      if (old && now - (await this.retriedAtMs(id)) > maxAgeMs && this.claim(id)) {
        try {
          await this.park(id, `expired: not delivered within ${Math.round(this.maxAgeS)} s`);
          expired.push(id);
        } catch {
          // Another process moved it meanwhile.
        } finally {
          this.release(id);
        }
      }
    }
    const old = async (path: string, limitMs: number) =>
      now - ((await stat(path).catch(() => undefined))?.mtimeMs ?? now) > limitMs;
    for (const id of this.ids('parked'))
      if (await old(this.dir('parked', id), maxAgeMs))
        await rm(this.dir('parked', id), { recursive: true, force: true });
    for (const name of this.ids('delivered'))
      if (await old(this.dir('delivered', name), maxAgeMs))
        await rm(this.dir('delivered', name), { force: true });
    for (const name of this.ids('tmp'))
      if (name.endsWith('.done') || (await old(this.dir('tmp', name), TMP_STALE_MS)))
        await rm(this.dir('tmp', name), { recursive: true, force: true });
    // Recounted here, in the worker's turn, so a logEpisode call never reads every record to count them.
    this.#used = undefined;
    this.usedBytes();
    return expired;
  }
}

function claimStale(path: string): boolean {
  let raw: { pid?: unknown; host?: unknown; at?: unknown };
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return true; // a writer killed between create and write
  }
  const pid = Number(raw.pid);
  if (raw.host === HOST) return pid !== process.pid && !pidRunning(pid);
  return Date.now() - Number(raw.at) * 1000 > FOREIGN_CLAIM_STALE_MS;
}

function pidRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unlinkSyncQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

function writeFileAtomicSync(path: string, text: string, durable: boolean): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Temp file beside `path` (fsynced when `durable`), renamed over it. */
async function writeFileAtomic(path: string, text: string, durable: boolean): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
