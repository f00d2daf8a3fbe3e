import { type CoreDeps, runSweep } from '@robotrace/core';
import type { Logger } from './log.js';

export interface Sweeper {
  /** Runs a sweep now (after the current one, when one is running) and resolves when it is done. */
  runNow: () => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * The retention sweeper of one instance: at start (finishing what a crashed instance left, e.g. files of
 * deleted episodes) and then every `intervalS`, it sweeps in batches of `batchSize` until a batch is not full.
 * Every instance runs one; core's sweep lock lets one sweep at a time across them.
 */
export function startSweeper(
  core: CoreDeps,
  log: Logger,
  opts: { intervalS: number; batchSize: number },
): Sweeper {
  let running: Promise<void> | undefined;
  let stopped = false;
  let afterStart = true;
  const sweepAll = async () => {
    let ran = false;
    for (;;) {
      const outcome = await runSweep(core, { batchSize: opts.batchSize, afterStart });
      ran ||= outcome.ran;
      if (outcome.ran && (outcome.deleted > 0 || outcome.errors > 0))
        log.info('retention sweep', {
          deleted: outcome.deleted,
          bytes_freed: outcome.bytesFreed,
          storage_errors: outcome.errors,
        });
      if (!outcome.more || stopped) break;
    }
    // Only once every batch of the start's sweep ran (a crashed instance's claims may span several batches; and
    // another instance may have held the lock: then try again next time).
    if (ran && !stopped) afterStart = false;
  };
  const runNow = (): Promise<void> => {
    running ??= sweepAll()
      .catch((err: unknown) => log.warn('retention sweep failed', { error: (err as Error).message }))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const first = setTimeout(() => void runNow(), 0);
  const timer = opts.intervalS > 0 ? setInterval(() => void runNow(), opts.intervalS * 1000) : undefined;
  first.unref();
  timer?.unref();
  return {
    runNow,
    stop: async () => {
      stopped = true;
      clearTimeout(first);
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
