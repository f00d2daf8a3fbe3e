/** Helpers of the fault tests (apps/web/test/integration/faults-*.test.ts): Python SDK processes, SIGKILL. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Episode, ListEpisodesResponse } from '@robotrace/contracts';
import pg from 'pg';
import { api } from '../support/api.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const SDK_PYTHON = join(ROOT, '.cache/venv-sdk/bin/python');

/**
 * Budget of a beforeAll that may create the venvs: the integration step runs before the Python one in
 * `npm test`, so on a fresh machine the fault tests are the first to need `.cache/venv-sdk` (pip installs).
 */
export const VENV_SETUP_MS = 600_000;

/** Creates `.cache/venv-sdk` (our SDK, editable) when missing or stale; a no-op when it is up to date. */
export function ensureSdkVenv(): void {
  execFileSync('bash', [join(ROOT, 'scripts/setup-python.sh')], { stdio: 'inherit' });
  if (!existsSync(SDK_PYTHON)) throw new Error(`${SDK_PYTHON} missing after scripts/setup-python.sh`);
}

/** SIGKILL the server of a data dir: its pid is in `<data dir>/robotrace.lock` (written by the server). */
export function killServer(dataDir: string): number {
  const pid = Number.parseInt(readFileSync(join(dataDir, 'robotrace.lock'), 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no server pid in ${dataDir}/robotrace.lock`);
  process.kill(pid, 'SIGKILL');
  return pid;
}

export interface PyProcess {
  child: ChildProcess;
  /** Each JSON line printed so far, parsed. */
  events: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves with the exit code; rejects when the process outlives `timeoutMs` (then it is killed). */
  exited: (timeoutMs: number) => Promise<number>;
  /** Resolves once `predicate` holds for the events seen so far. */
  until: (predicate: (events: Record<string, unknown>[]) => boolean, timeoutMs: number) => Promise<void>;
}

/** Runs a Python script of test/faults with the SDK venv; stdout is parsed as one JSON object per line. */
export function runPython(script: string, args: string[], env: Record<string, string> = {}): PyProcess {
  const child = spawn(SDK_PYTHON, [join(ROOT, 'test/faults', script), ...args], {
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ROBOTRACE_QUIET: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) events.push(JSON.parse(line) as Record<string, unknown>);
      nl = buffer.indexOf('\n');
    }
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exit = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return {
    child,
    events,
    stderr: () => err,
    exited: (timeoutMs) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${script} did not finish in ${timeoutMs} ms; stderr:\n${err.slice(-4000)}`));
        }, timeoutMs);
        void exit.then((code) => {
          clearTimeout(timer);
          resolve(code);
        });
      }),
    until: (predicate, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(events)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${script}: condition not met in ${timeoutMs} ms; stderr:\n${err.slice(-4000)}`));
        }, timeoutMs);
        waiters.add(check);
        void exit.then(check);
        check();
      }),
  };
}

/** Every episode the key's project has whose name contains `q`, across all pages. */
export async function allEpisodes(baseUrl: string, apiKey: string, q: string): Promise<Episode[]> {
  const client = api(baseUrl, apiKey);
  const out: Episode[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ q, limit: '200' });
    if (cursor) params.set('cursor', cursor);
    const page = await client.get<ListEpisodesResponse>(`/api/episodes?${params}`);
    if (page.status !== 200) throw new Error(`list answered ${page.status}: ${JSON.stringify(page.body)}`);
    out.push(...page.body.data);
    cursor = page.body.next_cursor;
  } while (cursor);
  return out;
}

/**
 * The PostgreSQL processes (postmaster and its children) of the cluster behind `url`, for SIGSTOP/SIGCONT:
 * a stopped cluster still accepts TCP connections but never answers, like a hung host or a partition.
 */
export async function postgresPids(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const dir = (await client.query<{ data_directory: string }>('show data_directory')).rows[0]?.data_directory;
  await client.end();
  const postmaster = Number.parseInt(readFileSync(join(dir ?? '', 'postmaster.pid'), 'utf8'), 10);
  const children = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

/** Sends `signal` to each pid that still exists (a backend may exit between listing and signalling). */
export function signalEach(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

/**
 * A tiny filesystem mounted at `dir` (which must exist): tmpfs of `sizeMiB`, else an ext2 image on a loop
 * device. Both need root (CI runs as root); when neither mount is permitted the error says what was tried.
 */
export function mountTinyFs(dir: string, sizeMiB: number): { kind: string; unmount: () => void } {
  const tried: string[] = [];
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
    return { kind: 'tmpfs', unmount: () => execFileSync('umount', [dir]) };
  } catch (err) {
    tried.push(`mount -t tmpfs: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || String(err)}`);
  }
  const image = `${dir}.img`;
  try {
    execFileSync('truncate', ['-s', `${sizeMiB}M`, image]);
    execFileSync('mkfs.ext2', ['-q', '-F', image], { stdio: 'pipe' });
    execFileSync('mount', ['-o', 'loop', image, dir], { stdio: 'pipe' });
    return {
      kind: 'ext2 on a loop device',
      unmount: () => {
        execFileSync('umount', [dir]);
        execFileSync('rm', ['-f', image]);
      },
    };
  } catch (err) {
    tried.push(`loop-mounted ext2: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || String(err)}`);
    execFileSync('rm', ['-f', image]);
  }
  throw new Error(`cannot mount a small filesystem at ${dir} (needs root); tried:\n  ${tried.join('\n  ')}`);
}
