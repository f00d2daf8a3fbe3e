import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `robotrace … | head`: the reader closes the pipe early, the CLI's next write to stdout fails with EPIPE. The
 * CLI runs as its own process (the real entry point, src/cli/main.ts through tsx) with stdout a real pipe.
 */
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function run(reader: 'closed at once' | 'first chunk'): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--help'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: '/nonexistent', ROBOTRACE_DEBUG: '' },
  });
  // 'closed at once' is `| head -c 0`; 'first chunk' is `| head -n 1`.
  if (reader === 'closed at once') child.stdout.destroy();
  else child.stdout.once('data', () => child.stdout.destroy());
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('the CLI piped into a reader that closes early', () => {
  it.each(['closed at once', 'first chunk'] as const)('exits 0 quietly (reader: %s)', async (reader) => {
    expect(await run(reader)).toEqual({ code: 0, stderr: '' });
  });
});
