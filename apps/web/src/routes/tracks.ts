import { type ArtifactKind, getTrackWindowRoute, listTracksRoute } from '@robotrace/contracts';
import {
  type ByteSource,
  indexArtifactTracks,
  listTracks,
  localArtifactOpener,
  readTrackWindowJson,
  TRACK_KINDS,
  type TrackDeps,
  WindowCache,
} from '@robotrace/core';
import { type BoundRoute, bindRoute } from '../http/api-route.js';
import type { Services } from '../services.js';

/**
 * Serialized windows kept in memory for identical repeats (each lane's first view, compare, zooming back out):
 * a 12-column, 2,000-point window is about 0.5 MB, so this holds a few dozen; one over 4 MiB is never kept.
 */
const WINDOW_CACHE_CHARS = 32 * 1024 ** 2;

const depsByServices = new WeakMap<Services, Promise<TrackDeps>>();

/** Ranged reads through the store port (S3: one ranged GET per read; the readers ask for few, large ranges). */
function storeOpener(store: Services['core']['store']): (key: string) => Promise<ByteSource> {
  return async (key) => {
    const obj = await store.stat(key);
    if (!obj) throw Object.assign(new Error(`No stored object ${key}`), { code: 'ENOENT' });
    const size = obj.size;
    return {
      size,
      read: (offset, length) =>
        offset >= size
          ? Promise.resolve(new Uint8Array(0))
          : store.readRange(key, offset, Math.min(length, size - offset)),
      close: async () => {},
    };
  };
}

/**
 * The replay deps of this process: the core's DB and clock, ranged reads of artifacts (positional file reads
 * on local disk, ranged GETs on S3), and the column cache under <data dir>/cache/tracks (made with the services:
 * a deleted file's copies go with it).
 */
export function trackDeps(s: Services): Promise<TrackDeps> {
  let deps = depsByServices.get(s);
  if (!deps) {
    const cache = s.trackCache;
    const local = s.localStore;
    const open = local ? localArtifactOpener(local) : storeOpener(s.core.store);
    deps = cache.init().then(() => ({
      db: s.core.db,
      clock: s.core.clock,
      tracks: {
        open,
        cache,
        maxIndexBytes: s.env.ROBOTRACE_TRACK_INDEX_MAX_BYTES,
        windows: new WindowCache(WINDOW_CACHE_CHARS),
      },
    }));
    depsByServices.set(s, deps);
  }
  return deps;
}

/**
 * Indexes a sensors/actions upload once its bytes are in place (call after recordUpload). Never fails the
 * upload: a problem with the file becomes a warning in the track list, anything else is logged.
 */
export async function indexUploadedTracks(s: Services, key: string): Promise<void> {
  const [projectId, episodeId, kind] = key.split('/');
  if (!projectId || !episodeId || !TRACK_KINDS.includes(kind as ArtifactKind)) return;
  try {
    const deps = await trackDeps(s);
    const source = await deps.tracks.open(key);
    try {
      await indexArtifactTracks(deps, { projectId }, episodeId, kind as ArtifactKind, source);
    } finally {
      await source.close();
    }
  } catch (err) {
    s.log.error('track indexing failed', { key, error: err instanceof Error ? err.message : String(err) });
  }
}

/** Replay: an episode's tracks and one track's window (by API key or portal session, scoped to its project). */
export function trackRoutes(s: Services): BoundRoute[] {
  return [
    bindRoute(listTracksRoute, async ({ scope, params }) => ({
      status: 200,
      body: await listTracks(await trackDeps(s), scope, params.episode_id),
    })),
    bindRoute(getTrackWindowRoute, async ({ ctx, scope, params, query }) => {
      const json = await readTrackWindowJson(
        await trackDeps(s),
        scope,
        params.episode_id,
        params.name,
        query,
      );
      // Answered already (the deadline's 503): nothing more to write.
      if (ctx.res.headersSent) return undefined;
      // The core serialized it (and may have answered from its window cache): sent as is, headers as sendJson's.
      ctx.res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(json),
        'cache-control': 'no-store',
      });
      ctx.res.end(json);
      return undefined;
    }),
  ];
}
