import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UnavailableError } from '../../src/errors.js';
import { GroupCommit, type GroupCommitOptions } from '../../src/group-commit.js';

/**
 * The batching rules with a writer that records its batches and resolves them when the test says so; time is
 * vitest's fake clock, so nothing here depends on the machine's speed.
 */
const options: GroupCommitOptions = {
  windowMs: 5,
  maxBatch: 4,
  concurrency: 1,
  maxWaitMs: 1000,
  maxQueue: 10,
};

function recordingWriter() {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  const write = (items: number[]) => {
    batches.push(items);
    return new Promise<PromiseSettledResult<string>[]>((resolve) => {
      pending.push(() =>
        resolve(
          items.map((i) =>
            i < 0
              ? { status: 'rejected', reason: new Error(`bad ${i}`) }
              : { status: 'fulfilled', value: `ok ${i}` },
          ),
        ),
      );
    });
  };
  return { batches, write, release: () => pending.shift()?.() };
}

describe('GroupCommit', () => {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'],
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('at idle, an item goes at the next turn of the event loop, with the others of the same turn', async () => {
    const w = recordingWriter();
    const g = new GroupCommit(w.write, options);
    const a = g.submit(1);
    const b = g.submit(2);
    expect(w.batches).toEqual([]);
    await vi.advanceTimersToNextTimerAsync(); // the setImmediate, not the 5 ms window
    expect(w.batches).toEqual([[1, 2]]);
    w.release();
    await expect(Promise.all([a, b])).resolves.toEqual(['ok 1', 'ok 2']);
  });

  it('while a batch is written, later items gather, and go once it is done (one writer)', async () => {
    const w = recordingWriter();
    const g = new GroupCommit(w.write, options);
    const first = g.submit(1);
    await vi.advanceTimersToNextTimerAsync();
    const later = [g.submit(2), g.submit(3)];
    await vi.advanceTimersByTimeAsync(50);
    expect(w.batches).toEqual([[1]]); // the window has passed, but no writer is free
    w.release();
    await first;
    await vi.advanceTimersByTimeAsync(0);
    expect(w.batches).toEqual([[1], [2, 3]]);
    w.release();
    await expect(Promise.all(later)).resolves.toEqual(['ok 2', 'ok 3']);
  });

  it('a full batch goes at once; with a second writer a partial one waits for the window', async () => {
    const w = recordingWriter();
    const g = new GroupCommit(w.write, { ...options, concurrency: 2 });
    void g.submit(1);
    await vi.advanceTimersToNextTimerAsync();
    const rest = [2, 3, 4, 5, 6, 7].map((i) => g.submit(i));
    expect(w.batches).toEqual([[1], [2, 3, 4, 5]]); // filled: started without waiting
    await vi.advanceTimersByTimeAsync(4);
    expect(w.batches).toHaveLength(2);
    w.release();
    w.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(w.batches).toEqual([[1], [2, 3, 4, 5], [6, 7]]);
    w.release();
    await expect(Promise.all(rest)).resolves.toHaveLength(6);
  });

  it('each caller gets its own result: a failed item rejects alone', async () => {
    const w = recordingWriter();
    const g = new GroupCommit(w.write, options);
    const results = Promise.allSettled([g.submit(1), g.submit(-2), g.submit(3)]);
    await vi.advanceTimersToNextTimerAsync();
    w.release();
    expect((await results).map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('a writer that fails as a whole (no commit) fails every item of its batch', async () => {
    const g = new GroupCommit<number, string>(() => Promise.reject(new Error('connection lost')), options);
    const submitted = Promise.allSettled([g.submit(1), g.submit(2)]);
    await vi.runAllTimersAsync();
    const results = await submitted;
    expect(results.map((r) => (r as PromiseRejectedResult).reason?.message)).toEqual([
      'connection lost',
      'connection lost',
    ]);
  });

  it('an item queued past maxWaitMs is refused with a 503 and never written', async () => {
    const w = recordingWriter();
    const g = new GroupCommit(w.write, options);
    void g.submit(1);
    await vi.advanceTimersToNextTimerAsync();
    const stale = g.submit(2);
    stale.catch(() => {});
    await vi.advanceTimersByTimeAsync(1500); // the writer is stuck (a stalled database)
    w.release();
    await vi.runAllTimersAsync();
    await expect(stale).rejects.toBeInstanceOf(UnavailableError);
    expect(w.batches).toEqual([[1]]);
  });

  it('past maxQueue a new item is refused at once', async () => {
    const w = recordingWriter();
    const g = new GroupCommit(w.write, { ...options, maxBatch: 100 });
    void g.submit(0);
    await vi.advanceTimersToNextTimerAsync();
    for (let i = 1; i <= 10; i++) void g.submit(i);
    await expect(g.submit(11)).rejects.toMatchObject({ status: 503 });
  });
});
