// Summarises a V8 CPU profile (`node --cpu-prof`) of a benchmarked server into where its CPU time went, so a
// report can say what dominates when a goal is missed. Each sample goes to one category: the first in the list
// below found anywhere on its stack (so a socket read under the pg driver counts as pg, not as HTTP), else
// "other"; shares add up to 100 %.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount: number;
  children?: number[];
}

const CATEGORIES: [string, (url: string, fn: string) => boolean][] = [
  ['embedded PGlite (JS, WASM and its file I/O)', (url) => url.includes('pglite') || url.startsWith('wasm')],
  ['pg driver', (url) => /node_modules\/pg(-protocol|-pool)?\//.test(url)],
  ['drizzle-orm (query building, mapping)', (url) => url.includes('drizzle-orm')],
  ['zod (validation)', (url) => url.includes('/zod/')],
  ['file system (node:fs)', (url) => /node:(fs|internal\/fs)/.test(url)],
  ['crypto (hashing, signing)', (url) => /node:(crypto|internal\/crypto)/.test(url)],
  ['JSON (native parse / stringify)', (url, fn) => url === '' && (fn === 'parse' || fn === 'stringify')],
  ['HTTP parsing, sockets and streams', (url) => /node:(_http|http|net|internal\/streams|stream)/.test(url)],
];

/** `[category, share of samples]` for the first `.cpuprofile` in `dir`, largest first; idle and GC are rows too. */
export function summarizeCpuProfile(dir: string): [string, number][] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [];
  const { nodes } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = nodes.reduce((sum, n) => sum + n.hitCount, 0) || 1;
  const shares = new Map<string, number>();
  const add = (name: string, hits: number) => shares.set(name, (shares.get(name) ?? 0) + hits);
  for (const n of nodes) {
    if (n.hitCount === 0) continue;
    if (n.callFrame.functionName === '(idle)') add('idle (waiting for I/O)', n.hitCount);
    else if (n.callFrame.functionName === '(garbage collector)') add('garbage collector', n.hitCount);
    else add(categoryOf(n.id, byId, parent), n.hitCount);
  }
  return [...shares]
    .map(([name, hits]): [string, number] => [name, hits / total])
    .sort((a, b) => b[1] - a[1]);
}

function categoryOf(leaf: number, byId: Map<number, ProfileNode>, parent: Map<number, number>): string {
  const stack: ProfileNode['callFrame'][] = [];
  for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
    const frame = byId.get(id)?.callFrame;
    if (frame) stack.push(frame);
  }
  for (const [name, test] of CATEGORIES) if (stack.some((f) => test(f.url, f.functionName))) return name;
  return 'other (app code, Node internals)';
}
