import { UnavailableError } from './errors.js';

export interface GroupCommitOptions {
  /**
   * How long a partial batch waits for more items while another batch is being written and a writer is free
   * (PostgreSQL, where batches run side by side). With no batch in flight an item goes at the next turn of the
   * event loop: a lone request at idle never waits for the window.
   */
  windowMs: number;
  /** Items per batch (one multi-row statement or one transaction); 1 writes every item on its own. */
  maxBatch: number;
  /** Batches written at once: 1 on PGlite (one connection), part of the pool on PostgreSQL. */
  concurrency: number;
  /**
   * An item still queued this long is refused (503) instead of written: its caller's deadline has passed and it
   * was answered already, so writing it now would store something nobody was told about.
   */
  maxWaitMs: number;
  /** Queued items beyond this are refused at once (503): a stalled database must not grow memory without end. */
  maxQueue: number;
}

export const GROUP_COMMIT_DEFAULTS: GroupCommitOptions = {
  windowMs: 2,
  maxBatch: 64,
  concurrency: 1,
  maxWaitMs: 20_000,
  maxQueue: 10_000,
};

/** Writes a batch; one settled result per item, in order (a failed item never fails its neighbours). */
export type BatchWriter<I, O> = (items: I[]) => Promise<PromiseSettledResult<O>[]>;

interface Waiting<I, O> {
  item: I;
  queuedAt: number;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

/**
 * Gathers concurrent writes into batches: a batch starts when it is full, when no batch is in flight (at the
 * next event-loop turn, so items of the same turn go together), or when the window has passed and a writer is
 * free. Each caller's promise settles only when its own item's batch did (after the commit), with its own
 * result or error; when the writer fails as a whole (a commit that did not happen) every item of it fails.
 */
export class GroupCommit<I, O> {
  private queue: Waiting<I, O>[] = [];
  private inflight = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(
    private readonly write: BatchWriter<I, O>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Batches handed to the writer so far, and the items in them (tests check that items were gathered). */
  readonly stats = { batches: 0, items: 0 };

  /** Items queued and not yet handed to a writer. */
  get queued(): number {
    return this.queue.length;
  }

  submit(item: I): Promise<O> {
    if (this.queue.length >= this.options.maxQueue)
      return Promise.reject(
        new UnavailableError('The server is busy writing earlier requests; retry shortly', 1),
      );
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, queuedAt: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.inflight >= this.options.concurrency) return;
    if (this.queue.length >= this.options.maxBatch) {
      this.start();
      return;
    }
    if (this.inflight === 0) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        if (this.inflight < this.options.concurrency) this.start();
      });
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.inflight < this.options.concurrency) this.start();
    }, this.options.windowMs);
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const now = performance.now();
    const batch: Waiting<I, O>[] = [];
    for (const w of this.queue.splice(0, this.options.maxBatch)) {
      if (now - w.queuedAt > this.options.maxWaitMs)
        w.reject(new UnavailableError('The database did not answer in time; retry shortly', 2));
      else batch.push(w);
    }
    if (batch.length > 0) {
      this.inflight++;
      this.stats.batches++;
      this.stats.items += batch.length;
      this.run(batch).finally(() => {
        this.inflight--;
        this.schedule();
      });
    }
    // More than one batch may be waiting: start the next one now if a writer is free.
    this.schedule();
  }

  private async run(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const results = await this.write(batch.map((w) => w.item));
      batch.forEach((w, i) => {
        const r = results[i];
        if (r?.status === 'fulfilled') w.resolve(r.value);
        else w.reject(r ? r.reason : new Error('batch writer returned no result for an item'));
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
