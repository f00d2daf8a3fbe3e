import type { Command } from 'commander';
import type { TraceLookup } from '../../lookup.js';
import type { EpisodeSource, EpisodeStatus, ListEpisodesQuery } from '../../wire.js';
import { cliClient } from '../client.js';
import { episodeDetails, episodeRows, table } from '../format.js';
import { type CliIo, printJson, println } from '../io.js';
import * as parse from '../options.js';
import { registerEpisodesDelete } from './episodes-delete.js';
import { registerEpisodesExport } from './episodes-export.js';

interface ListFlags {
  status?: EpisodeStatus;
  source?: EpisodeSource;
  trace?: TraceLookup;
  policyVersion?: string;
  robot?: string;
  limit: number;
  cursor?: string;
  json?: boolean;
}

export function registerEpisodes(program: Command, io: CliIo): void {
  const episodes = program.command('episodes').description('list, inspect, delete and export episodes');

  episodes
    .command('list')
    .description('list episodes, newest first')
    .option('--status <status>', 'recording, ready or failed', parse.status)
    .option('--source <source>', 'real, sim or replay', parse.source)
    .option(
      '--trace <ref>',
      'only episodes of this trace: trace id, traceparent, X-Ray id, span id or APM URL',
      parse.traceLookup,
    )
    .option('--policy-version <version>', 'only this policy version')
    .option('--robot <robot>', 'only this robot')
    .option('--limit <n>', 'page size (1–200)', parse.limit, 50)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--json', 'print the page ({data, next_cursor}) as JSON')
    .action(async (flags: ListFlags) => {
      const query: ListEpisodesQuery = { limit: flags.limit, ...flags.trace };
      if (flags.status) query.status = flags.status;
      if (flags.source) query.source = flags.source;
      if (flags.policyVersion) query.policy_version = flags.policyVersion;
      if (flags.robot) query.robot = flags.robot;
      if (flags.cursor) query.cursor = flags.cursor;
      const page = await cliClient(io).listEpisodes(query);
      if (flags.json) return printJson(io, page);
      if (page.data.length === 0) return println(io.stdout, 'No episodes match.');
      println(io.stdout, table(episodeRows(page.data, flags.trace !== undefined)));
      if (page.next_cursor)
        println(io.stdout, `\nMore: robotrace episodes list --cursor ${page.next_cursor}`);
    });

  episodes
    .command('get')
    .description('show one episode: repro facts, trace context, artifacts and portal URL')
    .argument('<id>', 'episode id')
    .option('--json', 'print the episode as JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const episode = await cliClient(io).getEpisode(id);
      if (flags.json) printJson(io, episode);
      else println(io.stdout, episodeDetails(episode));
    });

  registerEpisodesDelete(episodes, io);
  registerEpisodesExport(episodes, io);
}
