/** What the CLI touches outside itself, injectable so tests run it in-process with a temp HOME and a fake fetch. */
export interface CliStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

/** An expected failure: printed as one line on stderr, no stack trace. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A mistake in how the command was called (exit code 2, like commander's own usage errors). */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(stream: CliStream, line = ''): void {
  stream.write(`${line}\n`);
}

/** `rt_<id>_<secret>` → `rt_<id>_…`: enough to recognise a key without printing the secret. */
export function keyHint(apiKey: string): string {
  const second = apiKey.indexOf('_', 3);
  if (second > 3 && second < apiKey.length - 1) return `${apiKey.slice(0, second + 1)}…`;
  return `${apiKey.slice(0, Math.min(8, apiKey.length))}…`;
}
