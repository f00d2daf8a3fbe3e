import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { EpisodeSource, EpisodeStatus, ExportEpisodesQuery, ExportedEpisode } from '../../wire.js';
import { cliClient } from '../client.js';
import { type CliIo, type CliStream, println } from '../io.js';
import * as parse from '../options.js';

interface ExportFlags {
  status?: EpisodeStatus;
  source?: EpisodeSource;
  q?: string;
  policyVersion?: string;
  robot?: string;
  createdAfter?: string;
  createdBefore?: string;
  out?: string;
  artifactsDir?: string;
}

/**
 * `robotrace episodes export`: the server's JSON Lines, one episode a line, to a file or stdout; with
 * --artifacts-dir each file is downloaded to DIR/<episode_id>/<kind><ext> and its line gains `local_path`.
 * A file given with --out appears only complete: it is written beside itself and renamed at the end.
 */
export function registerEpisodesExport(episodes: Command, io: CliIo): void {
  episodes
    .command('export')
    .description(
      'write every matching episode as JSON Lines (all fields, artifact URLs), optionally its files',
    )
    .option('--status <status>', 'recording, ready or failed', parse.status)
    .option('--source <source>', 'real, sim or replay', parse.source)
    .option('--q <text>', 'a fragment of name, robot, policy version or git sha')
    .option('--policy-version <version>', 'only this policy version')
    .option('--robot <robot>', 'only this robot')
    .option('--created-after <time>', 'only episodes created after this ISO 8601 time', parse.isoTime)
    .option('--created-before <time>', 'only episodes created before this ISO 8601 time', parse.isoTime)
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--artifacts-dir <dir>', 'download each artifact to <dir>/<episode_id>/<kind><ext>')
    .action(async (flags: ExportFlags) => {
      const client = cliClient(io);
      const query = exportQuery(flags);
      const sink = flags.out ? fileSink(flags.out) : streamSink(io.stdout);
      let episodes = 0;
      let files = 0;
      try {
        const exported = client.exportEpisodes(query);
        for await (const line of flags.artifactsDir ? readFirst(exported) : exported) {
          if (flags.artifactsDir) {
            for (const artifact of line.artifacts) {
              artifact.local_path = (
                await client.downloadArtifact(line.id, artifact, flags.artifactsDir)
              ).path;
              files++;
            }
          }
          await sink.write(`${JSON.stringify(line)}\n`);
          episodes++;
        }
        await sink.commit();
      } catch (error) {
        await sink.discard();
        throw error;
      }
      const where = flags.out ? ` to ${flags.out}` : '';
      const downloaded = flags.artifactsDir ? `, ${files} artifacts downloaded to ${flags.artifactsDir}` : '';
      println(io.stderr, `exported ${episodes} episode${episodes === 1 ? '' : 's'}${where}${downloaded}`);
    });
}

/**
 * The whole export read off the connection into a temp file first, then handed out line by line: downloading
 * between lines would otherwise hold the server's stream open (and a database read with it) for as long as every
 * download takes.
 */
async function* readFirst(lines: AsyncIterable<ExportedEpisode>): AsyncGenerator<ExportedEpisode> {
  const dir = await mkdtemp(join(tmpdir(), 'robotrace-export-'));
  try {
    const spool = fileSink(join(dir, 'lines.jsonl'));
    try {
      for await (const line of lines) await spool.write(`${JSON.stringify(line)}\n`);
      await spool.commit();
    } catch (error) {
      await spool.discard();
      throw error;
    }
    const reader = createInterface({
      input: createReadStream(join(dir, 'lines.jsonl')),
      crlfDelay: Infinity,
    });
    for await (const text of reader) if (text) yield JSON.parse(text) as ExportedEpisode;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function exportQuery(flags: ExportFlags): ExportEpisodesQuery {
  const query: ExportEpisodesQuery = {};
  if (flags.status) query.status = flags.status;
  if (flags.source) query.source = flags.source;
  if (flags.q) query.q = flags.q;
  if (flags.policyVersion) query.policy_version = flags.policyVersion;
  if (flags.robot) query.robot = flags.robot;
  if (flags.createdAfter) query.created_after = flags.createdAfter;
  if (flags.createdBefore) query.created_before = flags.createdBefore;
  return query;
}

interface Sink {
  write(text: string): Promise<void>;
  /** The export is complete. */
  commit(): Promise<void>;
  /** The export failed: nothing half-written stays behind (a file), what was printed stays printed (stdout). */
  discard(): Promise<void>;
}

function streamSink(stream: CliStream): Sink {
  const drainable = stream as CliStream & { once?: (event: 'drain', listener: () => void) => unknown };
  return {
    // A slow reader (`| gzip > file`) holds the export back instead of the lines piling up in memory; a closed
    // pipe ends the process in main.ts (EPIPE), so the wait for 'drain' cannot outlive its reader.
    write: async (text) => {
      if (!stream.write(text) && typeof drainable.once === 'function')
        await new Promise<void>((resolve) => drainable.once?.('drain', resolve));
    },
    commit: async () => undefined,
    discard: async () => undefined,
  };
}

function fileSink(path: string): Sink {
  const partial = `${path}.partial`;
  const out: WriteStream = createWriteStream(partial);
  const ended = () =>
    new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  return {
    write: (text) =>
      new Promise((resolve, reject) => out.write(text, (error) => (error ? reject(error) : resolve()))),
    commit: async () => {
      await ended();
      await rename(partial, path);
    },
    discard: async () => {
      await ended().catch(() => undefined);
      await rm(partial, { force: true });
    },
  };
}
