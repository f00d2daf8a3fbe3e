export { type ByteSource, bufferSource, localArtifactOpener, openFileSource } from './byte-source.js';
export { type CacheWriter, ColumnCache } from './column-cache.js';
export { FullResolution, MinMaxBuckets } from './downsample.js';
export type { DataRef, IndexedFile, IndexedTrack, TrackFileFormat } from './model.js';
export { NpyError, type NpyHeader, parseNpyHeader } from './npy.js';
export { type IndexContext, indexNpy, indexNpz } from './npz-index.js';
export { shortestFloat32 } from './precision.js';
export { lowerBound, readRows, timesOf } from './sample-reader.js';
export {
  indexArtifactTracks,
  indexTrackFile,
  listTracks,
  readTrackWindow,
  readTrackWindowJson,
  TRACK_KINDS,
  type TrackDeps,
  type TrackPorts,
} from './service.js';
export { indexArrow, indexParquet } from './table-index.js';
export { WindowCache } from './window-cache.js';
export { readZipDirectory, type ZipEntry, ZipError } from './zip.js';
