import { Command, CommanderError } from 'commander';
import { ArgumentError, RobotraceError } from '../errors.js';
import { SDK_VERSION } from '../version.js';
import { registerDemo } from './commands/demo.js';
import { registerEpisodes } from './commands/episodes.js';
import { registerLog } from './commands/log.js';
import { registerLogin } from './commands/login.js';
import { registerSpool } from './commands/spool.js';
import { registerTrace } from './commands/trace.js';
import { CliError, type CliIo } from './io.js';

export function buildProgram(io: CliIo): Command {
  const program = new Command('robotrace')
    .description('RoboTrace: log robot episodes and find them by trace id')
    .version(SDK_VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // One line, prefixed like every other CLI error; `--help` is one flag away.
      outputError: (text, write) =>
        write(`${text.replace(/^error: /, 'robotrace: ').trimEnd()} (see --help)\n`),
    })
    .addHelpText(
      'after',
      '\nConfiguration: ROBOTRACE_API_KEY, ROBOTRACE_BASE_URL, ROBOTRACE_HOME (default ~/.robotrace), or `robotrace login`.\nFirst run? `robotrace demo` logs sample episodes so the portal has something to show.',
    );
  registerLogin(program, io);
  registerLog(program, io);
  registerEpisodes(program, io);
  registerTrace(program, io);
  registerSpool(program, io);
  registerDemo(program, io);
  return program;
}

/**
 * Runs the CLI and resolves with its exit code. Expected failures (bad arguments, missing configuration, API
 * and network errors) print one line on stderr; a stack trace only for bugs, and only with ROBOTRACE_DEBUG=1.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (or the help / version text, exit code 0).
      return error.exitCode === 0 ? 0 : 2;
    }
    io.stderr.write(`robotrace: ${oneLine(error)}\n`);
    if (io.env.ROBOTRACE_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    if (error instanceof CliError) return error.exitCode;
    if (error instanceof ArgumentError) return 2;
    return 1;
  }
}

function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let message = error.message.replace(/^robotrace: /, '');
  if (error instanceof RobotraceError && 'requestId' in error && error.requestId) {
    message += ` (request ${String(error.requestId)})`;
  }
  if (!(error instanceof RobotraceError) && !(error instanceof CliError)) {
    message = `${error.name}: ${message}`;
  }
  return message.replace(/\s*\n\s*/g, ' ');
}
