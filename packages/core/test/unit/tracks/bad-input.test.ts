import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byName, type Fixtures, makeFixtures, PYTHON } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await makeFixtures();
}, 300_000);
afterAll(() => fx?.cleanup());

describe('bad input: the file is indexed as far as it is readable, one warning per problem', () => {
  it('a truncated NPZ', async () => {
    const index = await fx.index('truncated.npz');
    expect(index.tracks).toEqual([]);
    expect(index.warnings).toEqual([
      'sensors.npz: truncated or not a zip archive (no end-of-central-directory record) — no tracks',
    ]);
  });

  it('a file that is not a zip at all', async () => {
    const index = await fx.index('notzip.npz');
    expect(index.tracks).toEqual([]);
    expect(index.warnings).toEqual([
      'sensors: not a track file we can read (NPZ, .npy, Parquet, Feather/Arrow) — no tracks',
    ]);
  });

  it('a member that is not a valid .npy (the others still index)', async () => {
    const index = await fx.index('badmember.npz');
    expect(index.tracks.map((t) => t.name)).toEqual(['x/value']);
    expect(index.warnings).toHaveLength(1);
    expect(index.warnings[0]).toMatch(
      /^sensors\.npz: member 'x\/broken' is not a valid \.npy \(.+\) — skipped$/,
    );
  });

  it('mismatched step counts inside one topic', async () => {
    const index = await fx.index('mismatch.npz');
    expect(byName(index, 'arm/a').time).not.toBeNull();
    const b = byName(index, 'arm/b');
    expect(b.time).toBeNull();
    expect(b.warnings).toEqual([
      "sensors.npz: 'arm/b' has 49 steps but 'arm/_t_ns' has 50 — plotted by step index",
    ]);
    expect(index.warnings).toContain(
      "sensors.npz: topic 'arm' has fields with different step counts (a: 50, b: 49)",
    );
  });

  it('a _t_ns that is not monotonic', async () => {
    const index = await fx.index('nonmono.npz');
    const message = "sensors.npz: member 'imu/_t_ns' is not monotonic — plotted by step index";
    expect(index.warnings).toEqual([message]);
    expect(byName(index, 'imu/accel')).toMatchObject({ time: null, warnings: [message] });
  });

  it('NaN and Inf values', async () => {
    const index = await fx.index('nan.npz');
    expect(byName(index, 's/v').warnings).toEqual([
      "sensors.npz: 's/v' has 2 NaN/Inf values — drawn as gaps",
    ]);
    const values = await fx.values('nan.npz', byName(index, 's/v'));
    expect(values[3]).toBeNaN();
    expect(values[7]).toBe(Number.POSITIVE_INFINITY);
  });

  it('a 0-sample topic', async () => {
    const index = await fx.index('empty.npz');
    expect(byName(index, 'quiet/v')).toMatchObject({
      samples: 0,
      time: null,
      warnings: ["sensors.npz: 'quiet/v' has 0 samples — nothing to plot"],
    });
  });

  it('object arrays are skipped with a reason and never unpickled (the payload would create a file)', async () => {
    const index = await fx.index('object.npz');
    expect(index.tracks.map((t) => t.name)).toEqual(['o/ok']);
    expect(index.warnings).toEqual([
      "sensors.npz: member 'o/evil' is an object array (needs pickle) — skipped, never unpickled",
    ]);
    expect(existsSync(fx.marker)).toBe(false);
    // The payload is live: numpy with allow_pickle=True does create the file (so the check above can fail).
    execFileSync(PYTHON, [
      '-c',
      'import sys, numpy; numpy.load(sys.argv[1], allow_pickle=True)["o/evil"]',
      fx.path('object.npz'),
    ]);
    expect(existsSync(fx.marker)).toBe(true);
  });

  it('a file over the indexing limit is indexed partially, with a note', async () => {
    const full = await fx.index('gym.npz');
    const partial = await fx.index('gym.npz', 'sensors', 1_500);
    expect(partial.tracks.length).toBeLessThan(full.tracks.length);
    expect(partial.tracks.length).toBeGreaterThan(0);
    expect(partial.warnings).toHaveLength(1);
    expect(partial.warnings[0]).toMatch(
      /^sensors\.npz: over the indexing limit of 1500 bytes — indexed partially \(\d+ of 5 members\)/,
    );
  });

  it('a Parquet file without a time column: plotted by step index', async () => {
    const index = await fx.index('notime.parquet', 'actions');
    expect(index.warnings).toContain(
      'actions.parquet: no time column (_t_ns, t_ns, timestamp_ns, time_ns, timestamp, time, t, t_s, time_s) — plotted by step index',
    );
    expect(byName(index, 'gripper').time).toBeNull();
  });
});
