import type { Command } from 'commander';
import type { LogEpisodeOptions } from '../../client.js';
import { cliClient } from '../client.js';
import { type CliIo, printJson, println, UsageError } from '../io.js';
import * as parse from '../options.js';
import { progressBar } from '../progress.js';

interface LogFlags {
  name?: string;
  source: 'real' | 'sim' | 'replay';
  robot?: string;
  policyVersion?: string;
  envVersion?: string;
  gitSha?: string;
  seed?: number;
  fps?: number;
  duration?: number;
  video?: string;
  sensors?: string;
  actions?: string;
  meta?: Record<string, unknown>;
  metadataJson?: Record<string, unknown>;
  status: 'ready' | 'failed';
  failureReason?: string;
  failureTime?: number;
  traceparent?: string;
  tracestate?: string;
  json?: boolean;
}

export function registerLog(program: Command, io: CliIo): void {
  program
    .command('log')
    .description(
      'log one episode: create it, upload its files (with a progress bar on a terminal), finalize it',
    )
    .option('--name <name>', 'episode name')
    .option('--source <source>', 'real, sim or replay', parse.source, 'real')
    .option('--robot <robot>', 'robot name or model')
    .option('--policy-version <version>', 'policy version')
    .option('--env-version <version>', 'environment / simulator version')
    .option('--git-sha <sha>', 'git commit of the code that ran')
    .option('--seed <n>', 'random seed', parse.integer)
    .option('--fps <n>', 'frames per second', parse.nonNegative)
    .option('--duration <seconds>', 'run length in seconds', parse.nonNegative)
    .option('--video <file>', 'video file to upload (.mp4 .webm .mov .m4v)')
    .option('--sensors <file>', 'sensor data file to upload')
    .option('--actions <file>', 'actions file to upload')
    .option('--meta <key=value>', 'metadata entry (repeatable; JSON values keep their type)', parse.metaPair)
    .option('--metadata-json <json>', 'metadata as one JSON object', parse.jsonObject)
    .option(
      '--status <status>',
      'final status: ready or failed',
      parse.oneOf(['ready', 'failed'] as const),
      'ready',
    )
    .option('--failure-reason <text>', 'why the run failed (with --status failed)')
    .option('--failure-time <seconds>', 'when in the run it failed (with --status failed)', parse.nonNegative)
    .option(
      '--traceparent <traceparent>',
      'W3C trace context to attach (default: $TRACEPARENT when set)',
      parse.traceparent,
    )
    .option('--tracestate <tracestate>', 'W3C tracestate to attach with --traceparent')
    .option('--json', 'print the finalized episode as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  robotrace log --name pick-cube --source sim --video run.mp4 --traceparent 00-4bf9…-00f0…-01',
    )
    .action(async (flags: LogFlags) => {
      const options = logOptions(flags, io.env);
      const client = cliClient(io);
      const bar = flags.json ? undefined : progressBar(io.stderr);
      if (bar) options.onProgress = bar.onProgress;
      let episode: Awaited<ReturnType<typeof client.logEpisode>>;
      try {
        episode = await client.logEpisode(options);
      } finally {
        bar?.end();
      }
      if (flags.json)
        printJson(io, episode.record ?? { id: episode.id, status: episode.status, portal_url: episode.url });
      else {
        println(io.stdout, `Logged episode ${episode.id} (${episode.status})`);
        for (const warning of episode.warnings) println(io.stderr, `warning: ${warning}`);
        println(io.stdout, episode.url);
      }
    });
}

/** Flags → SDK options, with the cross-flag rules commander cannot express. */
export function logOptions(flags: LogFlags, env: NodeJS.ProcessEnv): LogEpisodeOptions {
  if (flags.status !== 'failed' && (flags.failureReason !== undefined || flags.failureTime !== undefined)) {
    throw new UsageError('--failure-reason and --failure-time need --status failed');
  }
  const metadata: Record<string, unknown> = { ...flags.metadataJson, ...flags.meta };
  let tp = flags.traceparent;
  if (tp === undefined && env.TRACEPARENT?.trim()) {
    try {
      tp = parse.traceparent(env.TRACEPARENT);
    } catch {
      throw new UsageError(`$TRACEPARENT is not a W3C traceparent: ${env.TRACEPARENT}`);
    }
  }
  if (flags.tracestate !== undefined && tp === undefined)
    throw new UsageError('--tracestate needs --traceparent');
  // The CLI runs outside the caller's process, so the trace context is an explicit choice: metadata.otel.
  if (tp !== undefined)
    metadata.otel = flags.tracestate
      ? { traceparent: tp, tracestate: flags.tracestate }
      : { traceparent: tp };

  const options: LogEpisodeOptions = { source: flags.source, status: flags.status };
  const copy: Array<[keyof LogEpisodeOptions, unknown]> = [
    ['name', flags.name],
    ['robot', flags.robot],
    ['policyVersion', flags.policyVersion],
    ['envVersion', flags.envVersion],
    ['gitSha', flags.gitSha],
    ['seed', flags.seed],
    ['fps', flags.fps],
    ['durationS', flags.duration],
    ['video', flags.video],
    ['sensors', flags.sensors],
    ['actions', flags.actions],
    ['failureReason', flags.failureReason],
    ['failureTimeS', flags.failureTime],
  ];
  for (const [key, value] of copy) if (value !== undefined) (options as Record<string, unknown>)[key] = value;
  if (Object.keys(metadata).length > 0) options.metadata = metadata;
  return options;
}
