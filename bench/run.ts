// `npm run bench [-- --quick] [-- --only ingest,memory]`: runs every benchmark of bench/*/ one after another (they
// share 2 cores, so never in parallel), each writing its section of docs/BENCHMARKS.md, then prints their tables.
// A benchmark is bench/<name>/run.ts (run with tsx) or bench/<name>/bench.py (run in the SDK's venv).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = argv.includes('--only') ? (argv[argv.indexOf('--only') + 1] ?? '').split(',') : null;

interface Bench {
  name: string;
  command: string;
  args: string[];
}

/** Each benchmark's own switches: writing its docs section (those that write only when asked), profiling. */
const EXTRA_FLAGS: Record<string, string[]> = {
  ingest: ['--profile'],
  portal: ['--write'],
  // Replay writes its section only when asked (its compare part starts the built server).
  replay: ['--write'],
  'sdk-ts': ['--write-docs'],
  'sdk-python': ['--write-docs'],
};

function discover(): Bench[] {
  const found: Bench[] = [];
  for (const name of readdirSync('bench').sort()) {
    const extra = [...(quick ? ['--quick'] : []), ...(EXTRA_FLAGS[name] ?? [])];
    if (existsSync(join('bench', name, 'run.ts')))
      found.push({
        name,
        command: process.execPath,
        args: ['--import', 'tsx', `bench/${name}/run.ts`, ...extra],
      });
    else if (existsSync(join('bench', name, 'bench.py'))) {
      // The Python SDK's venv (idempotent: a no-op when it is current).
      execFileSync('bash', ['scripts/setup-python.sh'], { stdio: ['ignore', 'ignore', 'inherit'] });
      found.push({ name, command: '.cache/venv-sdk/bin/python', args: [`bench/${name}/bench.py`, ...extra] });
    }
  }
  return found.filter((b) => !only || only.includes(b.name));
}

/** Runs one benchmark, progress (stderr) shown live, its stdout (the table) kept for the summary too. */
function run(b: Bench): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(b.command, b.args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { stdio: 'inherit' });
const benches = discover();
if (benches.length === 0) throw new Error(`no benchmark matches --only ${only?.join(',')}`);
const results: { name: string; seconds: number; code: number; out: string }[] = [];
for (const b of benches) {
  process.stdout.write(`\n==> bench/${b.name}${quick ? ' (quick)' : ''}\n`);
  const t0 = Date.now();
  const r = await run(b);
  results.push({ name: b.name, seconds: (Date.now() - t0) / 1000, ...r });
}

process.stdout.write('\n======== results (also in docs/BENCHMARKS.md) ========\n');
for (const r of results) process.stdout.write(`\n## ${r.name}\n\n${r.out.trim()}\n`);
process.stdout.write('\n| benchmark | time | result |\n|---|---|---|\n');
for (const r of results)
  process.stdout.write(
    `| ${r.name} | ${r.seconds.toFixed(0)} s | ${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`} |\n`,
  );
const total = results.reduce((s, r) => s + r.seconds, 0);
process.stdout.write(`\nTotal: ${(total / 60).toFixed(1)} min${quick ? ' (--quick)' : ''}\n`);
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
