// CPU time a process (and, for PostgreSQL, its whole cluster) spent, from /proc, so a run can report the CPU
// each create cost the server and the database. On a shared 2-core machine the rates move with other people's
// load; CPU per request is what the server itself decides, and it moves far less (Linux only).
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK)

/** utime + stime (and with `reaped`, the children already waited for), in ms; 0 if the process is gone. */
function cpuMsOf(pid: number, reaped = false): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = [11, 12, ...(reaped ? [13, 14] : [])].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return (ticks * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
  } catch {
    return 0;
  }
}

const pids = () =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);

/** A single process (our server, the bare baseline). */
export const processCpu = (pid: number) => () => cpuMsOf(pid);

/**
 * The PostgreSQL cluster listening on `port`: its postmaster, the backends alive now, and the ones that already
 * exited (counted into the postmaster's children time when it reaped them).
 */
export function postgresCpu(port: number): () => number {
  const master = pids().find((p) => {
    try {
      return (
        readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(`postgres -D`) &&
        readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(String(port))
      );
    } catch {
      return false;
    }
  });
  if (master === undefined) return () => 0;
  return () =>
    cpuMsOf(master, true) +
    pids()
      .filter((p) => parentOf(p) === master)
      .reduce((sum, p) => sum + cpuMsOf(p), 0);
}
