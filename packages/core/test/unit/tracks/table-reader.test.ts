import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byName, type Fixtures, makeFixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await makeFixtures();
}, 300_000);
afterAll(() => fx?.cleanup());

const linspace = (n: number) => Array.from({ length: n }, (_, i) => i / (n - 1));

describe('tables written by pyarrow (Parquet in row groups of 16, Feather v2 in batches of 16)', () => {
  for (const [file, format] of [
    ['actions.parquet', 'parquet'],
    ['actions.feather', 'arrow'],
  ] as const) {
    it(`${file}: one track per numeric column on the time column; text columns skipped with a note`, async () => {
      const index = await fx.index(file, 'actions');
      expect(index.format).toBe(format);
      expect(index.warnings).toEqual([`actions.${format}: column 'label' is not numeric — skipped`]);
      expect(index.tracks.map((t) => t.name)).toEqual(['gripper', 'arm/joint0']);
      const gripper = byName(index, 'gripper');
      expect(gripper).toMatchObject({
        topic: 'actions',
        field: 'gripper',
        samples: 50,
        columns: ['gripper'],
      });
      expect(gripper.time).toMatchObject({ startNs: '0', endNs: String(49 * 20_000_000), absolute: false });
      const values = await fx.values(file, gripper, 'actions');
      for (const [i, v] of linspace(50).entries()) expect(values[i]).toBeCloseTo(v, 12);
      const joint = byName(index, 'arm/joint0');
      expect(joint).toMatchObject({ topic: 'arm', field: 'joint0' });
      expect(await fx.values(file, joint, 'actions')).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });
  }

  it('a table over the indexing limit is indexed by whole row groups up to it, with a note', async () => {
    // 3 numeric columns × 8 bytes a row: 800 bytes hold 33 rows, i.e. two row groups of 16.
    const index = await fx.index('actions.parquet', 'actions', 800);
    expect(index.warnings).toContain(
      'actions.parquet: over the indexing limit of 800 bytes — indexed partially (the first 32 of 50 rows)',
    );
    const gripper = byName(index, 'gripper');
    expect(gripper.samples).toBe(32);
    expect(gripper.time?.endNs).toBe(String(31 * 20_000_000));
  });

  it('the Arrow IPC stream format (no footer) reads batch by batch too', async () => {
    const index = await fx.index('actions.arrows', 'actions');
    expect(index.format).toBe('arrow');
    expect(byName(index, 'gripper')).toMatchObject({ samples: 50, time: { startNs: '0', absolute: false } });
  });

  it('a timestamp[ns] column is the time base, absolute Unix ns kept exactly', async () => {
    const index = await fx.index('absolute.parquet', 'actions');
    expect(index.warnings).toEqual([]);
    expect(byName(index, 'effort').time).toMatchObject({
      startNs: '1796000000000000000',
      endNs: '1796000000980000000',
      absolute: true,
    });
  });
});
