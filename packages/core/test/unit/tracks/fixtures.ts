import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ArtifactKind } from '@robotrace/contracts';
import {
  type ByteSource,
  ColumnCache,
  type DataRef,
  type IndexedFile,
  type IndexedTrack,
  indexTrackFile,
  openFileSource,
  readRows,
} from '../../../src/index.js';

const ROOT = resolve(import.meta.dirname, '../../../../..');
export const PYTHON = join(ROOT, '.cache/venv-sdk/bin/python');

/** numpy + pyarrow in the SDK venv (the test writes its files with them; see test/fixtures/tracks). */
export function ensurePythonLibs(): void {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy, pyarrow'], { stdio: 'ignore' });
  } catch {
    execFileSync(PYTHON, ['-m', 'pip', 'install', '-q', 'numpy', 'pyarrow'], { stdio: 'inherit' });
  }
}

export interface Fixtures {
  dir: string;
  marker: string;
  cache: ColumnCache;
  path: (name: string) => string;
  index: (name: string, kind?: ArtifactKind, maxIndexBytes?: number) => Promise<IndexedFile>;
  /** Every value of a track, row-major, read back through its DataRef (artifact in place or cached copy). */
  values: (name: string, track: IndexedTrack, kind?: ArtifactKind) => Promise<number[]>;
  cleanup: () => void;
}

export async function makeFixtures(): Promise<Fixtures> {
  ensurePythonLibs();
  const dir = mkdtempSync(join(tmpdir(), 'rt-tracks-'));
  const marker = join(dir, 'UNPICKLED');
  execFileSync(PYTHON, [join(ROOT, 'test/fixtures/tracks/make_tracks.py'), dir, marker], {
    stdio: 'inherit',
  });
  const cache = new ColumnCache(join(dir, 'cache'), 64 << 20);
  await cache.init();
  const path = (name: string) => join(dir, name);
  const keyOf = (name: string, kind: ArtifactKind) => `${name}:${kind}`;
  async function withSource<T>(name: string, fn: (s: ByteSource) => Promise<T>): Promise<T> {
    const source = await openFileSource(path(name));
    try {
      return await fn(source);
    } finally {
      await source.close();
    }
  }
  async function readRef(name: string, ref: DataRef, kind: ArtifactKind): Promise<number[]> {
    const source =
      ref.in === 'artifact'
        ? await openFileSource(path(name))
        : await cache.open(keyOf(name, kind), ref.member);
    if (!source) throw new Error(`no cached copy of ${ref.member}`);
    try {
      const rows = ref.shape.length === 0 ? 1 : (ref.shape[0] ?? 0);
      const out: number[] = [];
      for await (const slice of readRows(source, ref, 0, rows)) out.push(...slice.values);
      return out;
    } finally {
      await source.close();
    }
  }
  return {
    dir,
    marker,
    cache,
    path,
    index: (name, kind = 'sensors', maxIndexBytes = 1 << 30) =>
      withSource(name, (s) =>
        indexTrackFile(s, kind, { artifactKey: keyOf(name, kind), cache, maxIndexBytes }),
      ),
    values: (name, track, kind = 'sensors') => readRef(name, track.data, kind),
    cleanup: () => {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const byName = (file: IndexedFile, name: string): IndexedTrack => {
  const t = file.tracks.find((x) => x.name === name);
  if (!t) throw new Error(`no track ${name} in ${file.tracks.map((x) => x.name).join(', ')}`);
  return t;
};
