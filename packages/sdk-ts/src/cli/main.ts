#!/usr/bin/env node
import { runCli } from './program.js';

// `robotrace … | head`: once the reader has closed the pipe, a write to stdout fails with EPIPE (an 'error'
// event: unhandled, Node prints a stack trace and exits 1). Nobody reads the rest: stop quietly with status 0,
// as common CLIs do. Any other stdout error stays what it was.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`robotrace: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
