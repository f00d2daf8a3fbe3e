import type { Command } from 'commander';
import { type APIError, ConflictError, NotFoundError } from '../../errors.js';
import type { DeleteEpisodeResult, EpisodeReference, EpisodeReferences } from '../../wire.js';
import { cliClient } from '../client.js';
import { formatBytes } from '../format.js';
import { CliError, type CliIo, println } from '../io.js';
import { ask } from '../prompt.js';

interface DeleteFlags {
  unlinkReferences?: boolean;
  yes?: boolean;
}

/**
 * `robotrace episodes delete <id>...`: one line per id (deleted / not found / referenced by …), the same lines
 * as the Python CLI prints; exit 1 when any id was not deleted. Asks first on a terminal unless --yes.
 */
export function registerEpisodesDelete(episodes: Command, io: CliIo): void {
  episodes
    .command('delete')
    .description('delete episodes: their artifacts in storage, track index and insights go with them')
    .argument('<id...>', 'episode ids')
    .option('--unlink-references', 'also remove the eval results and verification scenarios that use them')
    .option('--yes', 'do not ask for confirmation')
    .action(async (ids: string[], flags: DeleteFlags) => {
      const client = cliClient(io);
      if (!flags.yes && io.stdin.isTTY && !(await confirmed(io, ids))) throw new CliError('nothing deleted');
      let failed = 0;
      for (const id of ids) {
        const line = await deleteOne(
          () => client.deleteEpisode(id, { unlinkReferences: flags.unlinkReferences }),
          id,
        );
        if (!line.startsWith('deleted')) failed++;
        println(io.stdout, line);
      }
      if (failed > 0) throw new CliError(`${failed} of ${ids.length} not deleted`);
    });
}

async function confirmed(io: CliIo, ids: string[]): Promise<boolean> {
  const what = ids.length === 1 ? `episode ${ids[0]} and its` : `${ids.length} episodes and their`;
  const answer = await ask(io, `Delete ${what} artifacts? This cannot be undone [y/N]`);
  return /^y(es)?$/i.test(answer);
}

/** The outcome line of one id; errors other than 404 / 409 (auth, network, 5xx) stop the command. */
export async function deleteOne(call: () => Promise<DeleteEpisodeResult>, id: string): Promise<string> {
  try {
    return deletedLine(await call());
  } catch (error) {
    if (error instanceof NotFoundError) return `not found ${id}`;
    if (error instanceof ConflictError && error.code === 'episode_referenced')
      return referencedLine(id, error);
    throw error;
  }
}

export function deletedLine(result: DeleteEpisodeResult): string {
  const files = `${result.artifacts_deleted} artifact${result.artifacts_deleted === 1 ? '' : 's'}`;
  let line = `deleted ${result.episode_id} (${files}, ${formatBytes(result.bytes_freed)} freed`;
  const { eval_results: results, scenarios } = result.references_removed;
  if (results + scenarios > 0)
    line += `; unlinked ${plural(results, 'eval result')}, ${plural(scenarios, 'scenario')}`;
  line += ')';
  if (result.pending_storage) line += ' - storage still deleting the files, retried by the server';
  return line;
}

function referencedLine(id: string, error: APIError): string {
  const details = (error.details ?? {}) as Partial<EpisodeReferences>;
  const refs = [
    ...(details.eval_runs ?? []).map((ref) => `eval run ${named(ref)}`),
    ...(details.scenarios ?? []).map((ref) => `scenario ${named(ref)}`),
  ];
  return `referenced ${id} by ${refs.join(', ') || 'other records'} (pass --unlink-references to remove those links)`;
}

function named(ref: EpisodeReference): string {
  return ref.name ? `"${ref.name}" (${ref.id})` : ref.id;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
