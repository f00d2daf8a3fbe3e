import { type DeliveryBackend, deliverOne, type Outcome } from './deliver.js';
import type { Receipt, SpoolRecord } from './record.js';
import { SpoolRefusedError, type SpoolStore } from './store.js';

export interface SpoolLogger {
  warn(message: string): void;
}

/** What a background Episode is told once its record left the spool. */
export type DeliveryListener = (result: { receipt?: Receipt; error?: string }) => void;

const MAX_BACKOFF_MS = 60_000;
/** Records another process spooled (or released) are picked up within this. */
const RESCAN_MS = 30_000;
/** While flushing a server that refuses at once, do not spin. */
const MIN_FLUSH_RETRY_MS = 200;
const SWEEP_EVERY_MS = 600_000;

/**
 * Background delivery for one client: `logEpisode` spools and returns; this loop delivers, oldest first, on the
 * same event loop (all I/O is asynchronous; its timers and sockets are unref'd, so it never keeps the process
 * alive). Each problem is warned about once per process. On `beforeExit` it flushes for at most
 * `flushTimeoutMs`; what is left stays on disk for the next process (spec/SPOOL.md).
 */
export class SpoolWorker {
  readonly #listeners = new Map<string, DeliveryListener>();
  readonly #warned = new Set<string>();
  #stopped = false;
  #failures = 0;
  #lastSweep = 0;
  #passesStarted = 0;
  #lastIdlePass = 0;
  #flushing = 0;
  #wake: (() => void) | undefined;
  /** A wake-up asked for while a pass was running: the next sleep is skipped. */
  #kicked = false;
  #passDone: Array<() => void> = [];
  #exitFlushed = false;
  /** Records spooled by this process, not yet fsynced; and those that are. */
  #new: string[] = [];
  readonly #durable = new Set<string>();
  #syncing = false;
  readonly #onBeforeExit = () => {
    if (this.#exitFlushed || this.#stopped) return;
    this.#exitFlushed = true;
    // A ref'd timer keeps the process alive for at most flushTimeoutMs while the flush runs.
    void this.close(this.flushTimeoutMs);
  };

  constructor(
    readonly store: SpoolStore,
    readonly backend: DeliveryBackend,
    readonly flushTimeoutMs: number,
    readonly logger: SpoolLogger,
    readonly createdBy: string,
  ) {
    process.on('beforeExit', this.#onBeforeExit);
    void this.#loop();
  }

  /** Spools a record (synchronously: it is on disk when this returns); on refusal the listener hears why. */
  submit(record: SpoolRecord, listener: DeliveryListener): void {
    try {
      this.store.add(record, this.createdBy);
    } catch (error) {
      const message = (error as Error).message;
      listener({ error: `not spooled: ${message}` });
      const key = error instanceof SpoolRefusedError ? message.split('(')[0] : 'bug';
      this.warnOnce(`refused:${key}`, `robotrace: episode not recorded: ${message}`);
      return;
    }
    this.#listeners.set(record.id, listener);
    this.#new.push(record.id);
    this.#durableSoon();
    // While backing off from a failing server, a new record does not cut the wait short.
    if (this.#failures === 0) this.#kick();
  }

  /** fsyncs new records off the caller's path (the libuv pool), batched: one directory fsync per batch. */
  #durableSoon(): void {
    if (this.#syncing) return;
    this.#syncing = true;
    setImmediate(async () => {
      while (this.#new.length > 0) {
        const batch = this.#new.splice(0);
        await this.store.makeDurable(batch).catch(() => undefined); // a read-only spool: nothing to do
        for (const id of batch) this.#durable.add(id);
      }
      this.#syncing = false;
    });
  }

  /**
   * Delivers now (no backoff) until nothing deliverable is waiting or `timeoutMs` passed. Resolves true when
   * nothing is left waiting that another process has not claimed. Never rejects.
   */
  async flush(timeoutMs?: number): Promise<boolean> {
    const start = this.#passesStarted;
    this.#flushing++;
    this.#kick();
    let timer: NodeJS.Timeout | undefined;
    const deadline =
      timeoutMs === undefined
        ? undefined
        : new Promise<void>((resolve) => {
            timer = setTimeout(resolve, Math.max(0, timeoutMs));
          });
    try {
      while (this.#lastIdlePass <= start && !this.#stopped) {
        const passDone = new Promise<string>((resolve) => this.#passDone.push(() => resolve('pass')));
        const waits = deadline ? [passDone, deadline.then(() => 'timeout')] : [passDone];
        if ((await Promise.race(waits)) === 'timeout') return false;
      }
      return this.#lastIdlePass > start;
    } finally {
      clearTimeout(timer);
      this.#flushing--;
    }
  }

  /** Flushes for at most `timeoutMs`, then stops. Safe to call twice. */
  async close(timeoutMs: number): Promise<boolean> {
    if (this.#stopped) return this.store.ids('waiting').length === 0;
    const done = await this.flush(timeoutMs);
    this.#stopped = true;
    process.off('beforeExit', this.#onBeforeExit);
    this.#kick();
    return done;
  }

  warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    try {
      this.logger.warn(message);
    } catch {
      // A broken logger must not break the run.
    }
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      let idle: boolean;
      try {
        idle = await this.#pass();
      } catch (error) {
        this.warnOnce('worker:bug', `robotrace: spool worker error: ${String(error)}`);
        idle = false;
      }
      if (idle) this.#lastIdlePass = this.#passesStarted;
      for (const resolve of this.#passDone.splice(0)) resolve();
      if (this.#stopped) break;
      const delay = idle
        ? RESCAN_MS
        : this.#flushing > 0
          ? MIN_FLUSH_RETRY_MS
          : Math.random() * Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.#failures);
      await this.#sleep(delay);
    }
    for (const resolve of this.#passDone.splice(0)) resolve();
  }

  #kick(): void {
    this.#kicked = true;
    // On a later turn of the event loop: the caller's code goes on first (logEpisode resolved already).
    const wake = this.#wake;
    if (wake) setImmediate(wake);
  }

  #sleep(ms: number): Promise<void> {
    if (this.#kicked) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref(); // never keeps the process alive
      const wake = () => done();
      this.#wake = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  async #pass(): Promise<boolean> {
    this.#passesStarted++;
    this.#wake = undefined;
    this.#kicked = false;
    const now = Date.now();
    if (now - this.#lastSweep > SWEEP_EVERY_MS) {
      this.#lastSweep = now;
      for (const id of await this.store.sweep()) this.#finish(id, { kind: 'parked', reason: 'expired' });
    }
    for (const id of this.store.ids('waiting')) {
      if (this.#stopped) return false;
      if (!this.store.claim(id)) continue;
      let outcome: Outcome;
      try {
        // Another process's record, or one resumed after a crash (this process's own are fsynced on submit).
        if (!this.#durable.has(id) && !this.#new.includes(id))
          await this.store.makeDurable([id]).catch(() => undefined);
        outcome = await deliverOne(this.backend, this.store, id);
      } finally {
        this.store.release(id);
      }
      this.#finish(id, outcome);
      if (outcome.kind === 'retry') {
        this.#failures++;
        this.warnOnce(
          'retry',
          `robotrace: delivery is failing, will retry in the background: ${outcome.reason}`,
        );
        return false;
      }
      this.#failures = 0;
    }
    return true;
  }

  #finish(id: string, outcome: Outcome): void {
    if (outcome.kind === 'retry') return;
    const listener = this.#listeners.get(id);
    this.#listeners.delete(id);
    this.#durable.delete(id);
    if (outcome.kind === 'parked')
      this.warnOnce('parked', `robotrace: an episode cannot be delivered, parked: ${outcome.reason}`);
    if (!listener) return;
    if (outcome.kind === 'delivered') listener({ receipt: outcome.receipt });
    else listener({ error: outcome.reason });
  }
}
