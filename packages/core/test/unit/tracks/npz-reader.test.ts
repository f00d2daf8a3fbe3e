import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byName, type Fixtures, makeFixtures } from './fixtures.js';
import {
  memberDataOffsetForTest,
  openFileSource,
  parseNpyHeader,
  readZipDirectory,
} from './reader-access.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await makeFixtures();
}, 300_000);
afterAll(() => fx?.cleanup());

const range = (n: number, f: (i: number) => number = (i) => i) => Array.from({ length: n }, (_, i) => f(i));

describe('NPZ written by numpy.savez and numpy.savez_compressed', () => {
  for (const [file, where] of [
    ['gym.npz', 'artifact'],
    ['gym_compressed.npz', 'cache'],
  ] as const) {
    it(`${file}: topics, fields, names, dtype, samples, relative time range, values`, async () => {
      const index = await fx.index(file);
      expect(index.format).toBe('npz');
      expect(index.warnings).toEqual([]);
      expect(index.tracks.map((t) => t.name).sort()).toEqual(['action/value', 'observation/value']);
      const obs = byName(index, 'observation/value');
      expect(obs).toMatchObject({
        topic: 'observation',
        field: 'value',
        dtype: '<f4',
        samples: 50,
        warnings: [],
      });
      expect(obs.columns).toEqual(['x', 'x_dot', 'theta', 'theta_dot']);
      expect(obs.time).toMatchObject({ startNs: '0', endNs: String(49 * 20_000_000), absolute: false });
      expect(obs.data.in).toBe(where);
      expect(await fx.values(file, obs)).toEqual(range(200));
      const act = byName(index, 'action/value');
      expect(act.columns).toEqual(['action/value']);
      expect(await fx.values(file, act)).toEqual(range(50, (i) => i * 0.5));
    });
  }

  for (const file of ['dtypes.npz', 'dtypes_compressed.npz']) {
    it(`${file}: every numeric dtype in both byte orders, bool, Fortran order, 3-D fields`, async () => {
      const index = await fx.index(file);
      expect(index.warnings).toEqual([]);
      const expected: Record<string, number[]> = {
        'd/f2': range(50),
        'd/f4be': range(50),
        'd/f8be': range(50),
        'd/i1': range(50, (i) => i - 25),
        'd/i2be': range(50, (i) => i - 25),
        'd/i4': range(50, (i) => i - 25),
        'd/i8': range(50, (i) => i - 25),
        'd/u1': range(50),
        'd/u2': range(50),
        'd/u4be': range(50),
        'd/u8': range(50),
        'd/b1': range(50, (i) => (i % 2 === 0 ? 1 : 0)),
        'd/fortran': range(150),
        'd/cube': range(300),
      };
      for (const [name, values] of Object.entries(expected))
        expect(await fx.values(file, byName(index, name)), name).toEqual(values);
      expect(byName(index, 'd/f8be').dtype).toBe('>f8');
      expect(byName(index, 'd/fortran').data.fortran).toBe(true);
      expect(byName(index, 'd/cube').columns).toEqual(range(6).map((i) => `d/cube[${i}]`));
      // No `_t_ns` in this file: evenly spaced at the episode's fps (decided when listing).
      expect(byName(index, 'd/i4').time).toBeNull();
    });
  }

  it('.npy format versions 1, 2 and 3', async () => {
    const index = await fx.index('versions.npz');
    for (const v of ['v/v1', 'v/v2', 'v/v3'])
      expect(await fx.values('versions.npz', byName(index, v)), v).toEqual(range(50));
  });

  it('ROS 2 layout: leading slash kept, topic = everything before the last /, absolute Unix ns kept exactly', async () => {
    const index = await fx.index('ros2.npz');
    const js = byName(index, '/joint_states/position');
    expect(js).toMatchObject({ topic: '/joint_states', field: 'position', samples: 50 });
    expect(js.columns).toHaveLength(6);
    expect(js.time).toMatchObject({
      startNs: '1796000000000000000',
      endNs: '1796000000980000000',
      absolute: true,
    });
    expect(byName(index, '/imu/angular_velocity').time?.startNs).toBe('1796000000010000000');
  });

  it('a bare .npy is one track named after the artifact kind', async () => {
    const index = await fx.index('bare.npy', 'sensors');
    expect(index.format).toBe('npy');
    const t = byName(index, 'sensors');
    expect(t).toMatchObject({ samples: 50, columns: ['sensors[0]', 'sensors[1]'], dtype: '<f4' });
    expect(await fx.values('bare.npy', t)).toEqual(range(100));
  });

  it('ZIP64: an archive of 65,536 members (ZIP64 end records) is listed from its central directory', async () => {
    const source = await openFileSource(fx.path('zip64.npz'));
    try {
      const entries = await readZipDirectory(source);
      expect(entries).toHaveLength(65_536);
      const last = entries[entries.length - 1];
      if (!last) throw new Error('no entries');
      expect(last.name).toBe('m/f65535.npy');
      const at = await memberDataOffsetForTest(source, last);
      const header = parseNpyHeader(await source.read(at, last.size));
      expect(header).toMatchObject({ descr: '<f4', shape: [3], fortranOrder: false });
    } finally {
      await source.close();
    }
  });
});
