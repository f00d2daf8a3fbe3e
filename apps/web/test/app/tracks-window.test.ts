import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type CreateEpisodeResponse, TrackWindow } from '@robotrace/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { useApp } from '../support/app.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'robotrace-track-window-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// numpy writes the file as the SDK adapters do: a float32 field, a float64 field, no _t_ns (spaced at the fps).
const SENSORS = `
import numpy as np, sys
vals = [0.1, 1 / 3, 2.5, 1e-7, -123.456, float("nan"), 16777217.0, 3.4e38]
np.savez(sys.argv[1], **{
    "s/f4": np.array(vals, dtype=np.float32).reshape(-1, 1),
    "s/f8": np.array(vals, dtype=np.float64).reshape(-1, 1),
})
`;
const sensorsPath = join(dir, 'sensors.npz');
execFileSync(join(ROOT, '.cache/venv-sdk/bin/python'), ['-c', SENSORS, sensorsPath]);

describe('GET /api/episodes/{id}/tracks/{name} (the route, in process)', () => {
  const app = useApp();

  async function episodeWithSensors(): Promise<string> {
    const client = app.current.client();
    const created = await client.post<CreateEpisodeResponse>('/api/ingest/episode', {
      source: 'sim',
      fps: 10,
      request_uploads: ['sensors'],
    });
    expect(created.status).toBe(201);
    const put = await fetch(created.body.upload_urls[0]?.url ?? '', {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: readFileSync(sensorsPath),
    });
    expect(put.status).toBe(200);
    const id = created.body.episode_id;
    expect((await client.post(`/api/ingest/episode/${id}/finalize`, { status: 'ready' })).status).toBe(200);
    return id;
  }

  const windowOf = async (id: string, name: string, apiKey = app.current.apiKey) => {
    const res = await fetch(`${app.current.baseUrl}/api/episodes/${id}/tracks/${name}?points=100`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    return { res, text: await res.text() };
  };

  it('prints float32 samples at their shortest float32 round-trip, float64 samples in full', async () => {
    const id = await episodeWithSensors();
    const f4 = await windowOf(id, 's/f4');
    expect(f4.res.status).toBe(200);
    expect(f4.res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const w = TrackWindow.parse(JSON.parse(f4.text));
    expect(w).toMatchObject({ samples: 8, downsampled: false, columns: ['s/f4'] });
    expect(w.t_ns).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => i * 100_000_000));
    // What the user reads is the stored float32 exactly (Math.fround is float32 rounding, as numpy's cast).
    const stored = [0.1, 1 / 3, 2.5, 1e-7, -123.456, Number.NaN, 16777217, 3.4e38].map(Math.fround);
    expect(w.series[0]?.min.map((v) => (v === null ? null : Math.fround(v)))).toEqual(
      stored.map((v) => (Number.isNaN(v) ? null : v)),
    );
    expect(w.series[0]?.min).toEqual([0.1, 0.33333334, 2.5, 1e-7, -123.456, null, 16777216, 3.4e38]);
    expect(f4.text).not.toContain('0.10000000149011612'); // the float64 widening of float32 0.1
    const f8 = TrackWindow.parse(JSON.parse((await windowOf(id, 's/f8')).text));
    expect(f8.series[0]?.min).toEqual([0.1, 1 / 3, 2.5, 1e-7, -123.456, null, 16777217, 3.4e38]);
  });

  it('answers an identical repeat with the same body, and scopes it: another project gets a 404', async () => {
    const id = await episodeWithSensors();
    const first = await windowOf(id, 's/f4');
    const again = await windowOf(id, 's/f4');
    expect(again.res.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(Number(again.res.headers.get('content-length'))).toBe(Buffer.byteLength(first.text));
    await app.current.addProject('other-window-project', 'rt_otherwindow_0123456789abcdefghijkl');
    const other = await windowOf(id, 's/f4', 'rt_otherwindow_0123456789abcdefghijkl');
    expect(other.res.status).toBe(404);
    expect(JSON.parse(other.text)).toMatchObject({ code: 'not_found', request_id: expect.any(String) });
    const unknown = await windowOf(id, 'nope');
    expect(unknown.res.status).toBe(404);
  });
});
