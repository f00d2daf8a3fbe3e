import type { Command } from 'commander';
import { deliveryBackend, spoolStoreFor } from '../../spool/backend.js';
import { deliverOne } from '../../spool/deliver.js';
import { spoolRoot } from '../../spool/record.js';
import { spoolStatus } from '../../spool/status.js';
import { SpoolStore } from '../../spool/store.js';
import { SDK_VERSION } from '../../version.js';
import { cliClient } from '../client.js';
import { CliError, type CliIo, type CliStream, printJson, println } from '../io.js';

const WIDTH = 24;

/**
 * `robotrace sync`, `robotrace spool status|retry|purge` (background delivery, spec/SPOOL.md); the same
 * commands and output as the Python CLI.
 */
export function registerSpool(program: Command, io: CliIo): void {
  program
    .command('sync')
    .description('deliver the episodes waiting in the spool now (with a progress bar on a terminal)')
    .option('--spool-dir <dir>', 'default: $ROBOTRACE_SPOOL_DIR, else ~/.robotrace/spool')
    .action(async (flags: { spoolDir?: string }) => {
      const config = cliClient(io, flags.spoolDir ? { spoolDir: flags.spoolDir } : {}).config;
      const userAgent = `robotrace-ts/${SDK_VERSION} node/${process.versions.node} ${process.platform}/${process.arch} robotrace-cli`;
      const backend = deliveryBackend(config, userAgent, io.fetch);
      const store = spoolStoreFor(config);
      await store.sweep();
      const ids = store.ids('waiting');
      const bar = progress(io.stderr, ids.length);
      let delivered = 0;
      let parked = 0;
      for (const [n, id] of ids.entries()) {
        if (!store.claim(id)) continue; // another process is delivering it
        let outcome: Awaited<ReturnType<typeof deliverOne>>;
        try {
          outcome = await deliverOne(backend, store, id);
        } finally {
          store.release(id);
        }
        if (outcome.kind === 'retry') {
          bar.end();
          throw new CliError(`delivery failed, ${ids.length - n} left waiting: ${outcome.reason}`);
        }
        if (outcome.kind === 'delivered') delivered++;
        else parked++;
        bar.draw(n + 1);
      }
      bar.end();
      println(io.stdout, `delivered ${delivered}, parked ${parked}, waiting ${store.ids('waiting').length}`);
    });

  const spool = program.command('spool').description('inspect the background delivery spool');
  for (const verb of ['retry', 'purge'] as const) {
    spool
      .command(`${verb} [id]`)
      .description(
        verb === 'retry'
          ? 'put a parked record (or --all) back to waiting, to be delivered again'
          : 'delete a parked record (or --all) and its files',
      )
      .option('--all', 'every parked record')
      .option('--spool-dir <dir>', 'default: $ROBOTRACE_SPOOL_DIR, else ~/.robotrace/spool')
      .action(async (id: string | undefined, flags: { all?: boolean; spoolDir?: string }) => {
        const store = new SpoolStore(spoolRoot(flags.spoolDir, io.env));
        println(io.stdout, await onParked(store, verb, id, flags.all === true));
      });
  }
  spool
    .command('status')
    .description('show what is waiting, parked (and why), delivered')
    .option('--spool-dir <dir>', 'default: $ROBOTRACE_SPOOL_DIR, else ~/.robotrace/spool')
    .option('--json', 'print the status as JSON')
    .action(async (flags: { spoolDir?: string; json?: boolean }) => {
      const status = await spoolStatus(new SpoolStore(spoolRoot(flags.spoolDir, io.env)));
      if (flags.json) return printJson(io, status);
      println(io.stdout, `spool ${status.root}`);
      println(io.stdout, `waiting   ${status.waiting.length}`);
      for (const e of status.waiting) {
        const why = e.last_error ? `  last error: ${e.last_error}` : '';
        println(io.stdout, `  ${e.id}  ${e.name ?? ''}  attempts ${e.attempts ?? 0}${why}`);
      }
      println(io.stdout, `parked    ${status.parked.length}`);
      for (const e of status.parked)
        println(io.stdout, `  ${e.id}  ${e.name ?? ''}  ${e.reason || e.corrupt || ''}`);
      println(io.stdout, `delivered ${status.delivered}`);
      for (const r of status.last_delivered) println(io.stdout, `  ${String(r.id)}  ${String(r.url ?? '')}`);
    });
}

/** `spool retry|purge`: one parked record or all of them; the summary line both CLIs print. */
async function onParked(
  store: SpoolStore,
  verb: 'retry' | 'purge',
  id: string | undefined,
  all: boolean,
): Promise<string> {
  if ((id === undefined) === !all) throw new CliError(`spool ${verb}: give a parked record id or --all`);
  const ids = all ? store.ids('parked') : [id as string];
  let done = 0;
  for (const one of ids) if (await (verb === 'retry' ? store.retry(one) : store.purge(one))) done++;
  if (!all && done === 0) throw new CliError(`spool ${verb}: no parked record ${id}`);
  return `${verb === 'retry' ? 'retried' : 'purged'} ${done}`;
}

/** `[####----] 3/10` on a terminal; nothing in a pipe (the summary line says it all). */
function progress(stream: CliStream, total: number): { draw(done: number): void; end(): void } {
  let drawn = false;
  return {
    draw(done) {
      if (!stream.isTTY || total === 0) return;
      const filled = Math.round((done / total) * WIDTH);
      stream.write(`\r\x1b[2K  sync ${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)} ${done}/${total}`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
