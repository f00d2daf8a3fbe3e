import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ArtifactKind } from '@robotrace/contracts';
import { TrackList, TrackWindow } from '@robotrace/contracts';
import { episode, project } from '@robotrace/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKey } from '../../src/episodes.js';
import { NotFoundError } from '../../src/errors.js';
import {
  ColumnCache,
  indexArtifactTracks,
  listTracks,
  localArtifactOpener,
  openFileSource,
  readTrackWindow,
  readTrackWindowJson,
  type TrackDeps,
  WindowCache,
} from '../../src/tracks/index.js';
import { coreOn, DATABASE_KINDS } from '../support/each-database.js';
import { type Fixtures, makeFixtures, PYTHON } from '../unit/tracks/fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await makeFixtures();
}, 300_000);
afterAll(() => fx?.cleanup());

const MS = 1_000_000;

describe.each(DATABASE_KINDS)('track index and windows (%s)', (kind) => {
  const core = coreOn(kind);
  let deps: TrackDeps;
  let cacheDir: string;
  const scope = { projectId: crypto.randomUUID() };
  const other = { projectId: crypto.randomUUID() };

  beforeAll(async () => {
    const { deps: base, store } = core();
    cacheDir = mkdtempSync(join(tmpdir(), 'rt-track-cache-'));
    const cache = new ColumnCache(cacheDir, 256 << 20);
    await cache.init();
    deps = { ...base, tracks: { open: localArtifactOpener(store), cache, maxIndexBytes: 1 << 30 } };
    await base.db.insert(project).values([
      { id: scope.projectId, name: `tracks-${kind}` },
      { id: other.projectId, name: `tracks-other-${kind}` },
    ]);
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  /** An episode whose slots hold the given fixture files, each indexed as its upload would be. */
  async function episodeWith(files: Partial<Record<ArtifactKind, string>>, fps: number | null = 50) {
    const id = crypto.randomUUID();
    await core()
      .deps.db.insert(episode)
      .values({ id, projectId: scope.projectId, source: 'sim', status: 'ready', fps });
    let list: TrackList | null = null;
    for (const [slot, file] of Object.entries(files) as [ArtifactKind, string][]) {
      const path = core().store.pathOf(storageKey(scope, id, slot));
      mkdirSync(dirname(path), { recursive: true });
      copyFileSync(fx.path(file), path);
      const source = await openFileSource(path);
      try {
        list = await indexArtifactTracks(deps, scope, id, slot, source);
      } finally {
        await source.close();
      }
    }
    return { id, list: TrackList.parse(list) };
  }

  it('lists sensors (compressed NPZ) and actions (Parquet) on the episode timeline', async () => {
    const { id, list } = await episodeWith({ sensors: 'gym_compressed.npz', actions: 'actions.parquet' });
    expect(list.origin_ns).toBeNull();
    expect(list.warnings).toEqual(["actions.parquet: column 'label' is not numeric — skipped"]);
    // sensors first, then actions; inside a file by topic (a partial index keeps whole topics).
    expect(list.tracks.map((t) => `${t.artifact_kind}:${t.name}`)).toEqual([
      'sensors:action/value',
      'sensors:observation/value',
      'actions:gripper',
      'actions:arm/joint0',
    ]);
    expect(list.tracks.find((t) => t.name === 'observation/value')).toMatchObject({
      topic: 'observation',
      field: 'value',
      columns: ['x', 'x_dot', 'theta', 'theta_dot'],
      dtype: '<f4',
      samples: 50,
      t_start_ns: 0,
      t_end_ns: 980 * MS,
      absolute_time: false,
      time_source: 't_ns',
    });
    expect(await listTracks(deps, scope, id)).toEqual(list);
  });

  it('windows: every sample at low counts, exact bounds, min/max buckets past `points`', async () => {
    const { id } = await episodeWith({ sensors: 'gym.npz' });
    const full = TrackWindow.parse(
      await readTrackWindow(deps, scope, id, 'observation/value', { points: 2000 }),
    );
    expect(full).toMatchObject({ samples: 50, downsampled: false, from_ns: 0, to_ns: 980 * MS });
    expect(full.t_ns).toEqual(Array.from({ length: 50 }, (_, i) => i * 20 * MS));
    expect(full.series.map((s) => s.column)).toEqual(['x', 'x_dot', 'theta', 'theta_dot']);
    expect(full.series[1]?.min).toEqual(Array.from({ length: 50 }, (_, i) => i * 4 + 1));

    const part = await readTrackWindow(deps, scope, id, 'observation/value', {
      from_ns: 100 * MS,
      to_ns: 200 * MS,
      points: 2000,
    });
    expect(part.t_ns).toEqual([100, 120, 140, 160, 180, 200].map((v) => v * MS));
    expect(part.series[0]?.max).toEqual([5, 6, 7, 8, 9, 10].map((i) => i * 4));

    const between = await readTrackWindow(deps, scope, id, 'observation/value', {
      from_ns: 101 * MS,
      to_ns: 119 * MS,
      points: 10,
    });
    expect(between.samples).toBe(0);

    const small = await readTrackWindow(deps, scope, id, 'action/value', { points: 5 });
    expect(small.downsampled).toBe(true);
    expect(small.t_ns.length).toBeLessThanOrEqual(5);
    expect(Math.min(...((small.series[0]?.min ?? []) as number[]))).toBe(0);
    expect(Math.max(...((small.series[0]?.max ?? []) as number[]))).toBe(24.5);
  });

  it('ROS 2 absolute times: the episode starts at the earliest first stamp; the origin is kept exactly', async () => {
    const { id, list } = await episodeWith({ sensors: 'ros2.npz' });
    expect(list.origin_ns).toBe('1796000000000000000');
    const imu = list.tracks.find((t) => t.name === '/imu/angular_velocity');
    expect(imu).toMatchObject({ absolute_time: true, t_start_ns: 10 * MS, t_end_ns: 990 * MS });
    const w = await readTrackWindow(deps, scope, id, '/imu/angular_velocity', {
      from_ns: 0,
      to_ns: 50 * MS,
      points: 100,
    });
    expect(w.t_ns).toEqual([10 * MS, 30 * MS, 50 * MS]);
  });

  it('no _t_ns: evenly spaced at the episode fps; NaN as null', async () => {
    const { id, list } = await episodeWith({ sensors: 'dtypes.npz' }, 25);
    expect(list.tracks.find((t) => t.name === 'd/i4')).toMatchObject({
      time_source: 'steps',
      t_start_ns: 0,
      t_end_ns: 49 * 40 * MS,
    });
    const w = await readTrackWindow(deps, scope, id, 'd/i4', {
      from_ns: 40 * MS,
      to_ns: 120 * MS,
      points: 100,
    });
    expect(w.t_ns).toEqual([40 * MS, 80 * MS, 120 * MS]);
    expect(w.series[0]?.min).toEqual([-24, -23, -22]);
    const nan = await episodeWith({ sensors: 'nan.npz' });
    const v = await readTrackWindow(deps, scope, nan.id, 's/v', { points: 100 });
    expect(v.series[0]?.min.slice(2, 8)).toEqual([2, null, 4, 5, 6, null]);
  });

  it('the same name in sensors and actions: the actions one is prefixed', async () => {
    const { id, list } = await episodeWith({ sensors: 'gym.npz', actions: 'gym_compressed.npz' });
    expect(list.tracks.map((t) => t.name)).toContain('actions:observation/value');
    const w = await readTrackWindow(deps, scope, id, 'actions:observation/value', { points: 10 });
    expect(w.samples).toBe(50);
  });

  it('an evicted cached copy is rebuilt from the artifact', async () => {
    const { id } = await episodeWith({ sensors: 'gym_compressed.npz', actions: 'actions.feather' });
    await deps.tracks.cache.init(); // empties the cache, as a restart would
    const obs = await readTrackWindow(deps, scope, id, 'observation/value', { points: 2000 });
    expect(obs.series[3]?.max.slice(0, 3)).toEqual([3, 7, 11]);
    const grip = await readTrackWindow(deps, scope, id, 'arm/joint0', {
      from_ns: 0,
      to_ns: 40 * MS,
      points: 2000,
    });
    expect(grip.series[0]?.min).toEqual([0, 1, 2]);
  });

  it('re-indexing a slot replaces its tracks; bad files keep the episode working with warnings', async () => {
    const { id } = await episodeWith({ sensors: 'gym.npz' });
    const path = core().store.pathOf(storageKey(scope, id, 'sensors'));
    copyFileSync(fx.path('nonmono.npz'), path);
    const source = await openFileSource(path);
    const list = await indexArtifactTracks(deps, scope, id, 'sensors', source).finally(() => source.close());
    expect(list.tracks.map((t) => t.name)).toEqual(['imu/accel']);
    expect(list.warnings).toEqual([
      "sensors.npz: member 'imu/_t_ns' is not monotonic — plotted by step index",
    ]);
    expect(list.tracks[0]?.time_source).toBe('steps');
  });

  it('a cached window is answered again as built, and a re-index of the file answers the new data', async () => {
    const windows = new WindowCache(1 << 20);
    const cached = { ...deps, tracks: { ...deps.tracks, windows } };
    // Two versions of one file, as numpy writes them: the same track, other values.
    const first = join(cacheDir, 'first.npz');
    const second = join(cacheDir, 'second.npz');
    const write =
      'import numpy as np, sys; np.savez(sys.argv[1], **{"s/v": np.array(eval(sys.argv[2]), dtype=np.float32)})';
    execFileSync(PYTHON, ['-c', write, first, '[0.1, 0.2, 0.3]']);
    execFileSync(PYTHON, ['-c', write, second, '[7.5, 8.5, 9.5]']);
    const id = crypto.randomUUID();
    await core()
      .deps.db.insert(episode)
      .values({ id, projectId: scope.projectId, source: 'sim', status: 'ready', fps: 10 });
    const path = core().store.pathOf(storageKey(scope, id, 'sensors'));
    mkdirSync(dirname(path), { recursive: true });
    const upload = async (file: string) => {
      copyFileSync(file, path);
      const source = await openFileSource(path);
      await indexArtifactTracks(cached, scope, id, 'sensors', source).finally(() => source.close());
    };
    await upload(first);
    const query = { points: 100 };
    const json = await readTrackWindowJson(cached, scope, id, 's/v', query);
    expect(TrackWindow.parse(JSON.parse(json)).series[0]?.min).toEqual([0.1, 0.2, 0.3]);
    expect(JSON.parse(json)).toEqual(await readTrackWindow(deps, scope, id, 's/v', query));
    expect(await readTrackWindowJson(cached, scope, id, 's/v', query)).toBe(json);
    expect(windows.size).toBe(json.length);
    // Another project never reaches the cached window: the index is read (and scoped) first.
    await expect(readTrackWindowJson(cached, other, id, 's/v', query)).rejects.toBeInstanceOf(NotFoundError);
    core().clock.advance(1000);
    await upload(second);
    const after = JSON.parse(await readTrackWindowJson(cached, scope, id, 's/v', query));
    expect(after.series[0]?.min).toEqual([7.5, 8.5, 9.5]);
  });

  it('a NUL in a member name is stored as U+FFFD and the track still reads', async () => {
    const { id, list } = await episodeWith({ sensors: 'nul.npz' });
    expect(list.tracks.map((t) => t.name)).toEqual(['nul\ufffdname/value']);
    const w = await readTrackWindow(deps, scope, id, 'nul\ufffdname/value', { points: 100 });
    expect(w.samples).toBe(50);
  });

  it('an artifact gone from the store: its windows are a 404, the list still answers', async () => {
    const { id } = await episodeWith({ sensors: 'gym.npz' });
    rmSync(core().store.pathOf(storageKey(scope, id, 'sensors')));
    expect((await listTracks(deps, scope, id)).tracks).toHaveLength(2);
    await expect(
      readTrackWindow(deps, scope, id, 'observation/value', { points: 10 }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it("another project's episode is a 404; so is an unknown track", async () => {
    const { id } = await episodeWith({ sensors: 'gym.npz' });
    await expect(listTracks(deps, other, id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      readTrackWindow(deps, other, id, 'observation/value', { points: 10 }),
    ).rejects.toBeInstanceOf(NotFoundError);
    const source = await openFileSource(fx.path('gym.npz'));
    await expect(indexArtifactTracks(deps, other, id, 'sensors', source)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await source.close();
    await expect(readTrackWindow(deps, scope, id, 'nope', { points: 10 })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(listTracks(deps, scope, 'not-a-uuid')).rejects.toBeInstanceOf(NotFoundError);
  });
});
