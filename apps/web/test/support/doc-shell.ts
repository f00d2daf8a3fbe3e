import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A shell block of a document marked to be run: `<!-- doc-test: <id> -->` on the line before a ```bash fence. */
export interface DocBlock {
  id: string;
  code: string;
  /** 1-based line of the marker, for failure messages. */
  line: number;
}

const MARKER = /^<!-- doc-test: ([a-z0-9-]+) -->$/;

/** Every marked block, in document order. A marker not followed by a ```bash fence is an error, not skipped. */
export function docBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const id = MARKER.exec(lines[i]?.trim() ?? '')?.[1];
    if (!id) continue;
    if (lines[i + 1]?.trim() !== '```bash')
      throw new Error(`line ${i + 1}: <!-- doc-test: ${id} --> must be followed by a \`\`\`bash fence`);
    const end = lines.findIndex((l, j) => j > i + 1 && l.trim() === '```');
    if (end < 0) throw new Error(`line ${i + 1}: the block "${id}" is never closed`);
    blocks.push({ id, code: lines.slice(i + 2, end).join('\n'), line: i + 1 });
    i = end;
  }
  return blocks;
}

/**
 * One bash session, as an operator's terminal: the blocks run one after another in the same shell, so a variable
 * set by one block is there for the next. `set -euo pipefail` makes the first failing command end the session
 * (and the test) instead of being typed past. Each block is sourced from a file, so its commands read stdin only
 * where the block pipes into them.
 */
export class DocShell {
  private readonly child: ChildProcessWithoutNullStreams;
  private output = '';
  private exited: number | null = null;
  private count = 0;

  constructor(
    cwd: string,
    env: Record<string, string>,
    private readonly scratch: string,
  ) {
    this.child = spawn('bash', ['--norc', '--noprofile'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (c: Buffer) => (this.output += c.toString()));
    this.child.stderr.on('data', (c: Buffer) => (this.output += c.toString()));
    this.child.on('exit', (code) => (this.exited = code ?? -1));
    this.child.stdin.write('set -euo pipefail\n');
  }

  /** Runs one block; resolves with what it printed, rejects with the whole transcript when it fails. */
  async run(block: DocBlock, timeoutMs: number): Promise<string> {
    const n = ++this.count;
    const file = join(this.scratch, `block-${n}-${block.id}.sh`);
    writeFileSync(file, `${block.code}\n`);
    const done = `__doc_block_${n}_done__`;
    const start = this.output.length;
    this.child.stdin.write(`source ${JSON.stringify(file)} </dev/null\necho ${done}\n`);
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(done, start)) {
      if (this.exited !== null || Date.now() > deadline)
        throw new Error(
          `DEPLOY.md block "${block.id}" (line ${block.line}) ${this.exited !== null ? `failed (exit ${this.exited})` : 'timed out'}:\n${this.output.slice(start)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.output.slice(start, this.output.indexOf(done, start));
  }

  close(): void {
    if (this.exited === null) this.child.stdin.end('exit 0\n');
  }
}
