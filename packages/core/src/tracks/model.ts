import type { ZipEntry } from './zip.js';

/** Where one array's raw bytes (C or Fortran order, numpy layout) live, and how to rebuild them if cached. */
export interface DataRef {
  /** `artifact`: a stored (uncompressed) zip member or .npy, read in place; `cache`: a decoded copy on disk. */
  in: 'artifact' | 'cache';
  /** The member or column it came from (messages, cache file name). */
  member: string;
  /** Byte offset of the first item inside the artifact or the cache file. */
  offset: number;
  descr: string;
  shape: number[];
  fortran: boolean;
  /** How to recreate a cached copy that was evicted: decode the zip member again, or convert the table again. */
  rebuild?: { kind: 'zip-member'; entry: ZipEntry; headerBytes: number } | { kind: 'table' };
}

export interface TrackTime {
  data: DataRef;
  /** First and last `_t_ns` as written (decimal strings: absolute ns exceed 2^53). */
  startNs: string;
  endNs: string;
  /** Unix-epoch ns (ROS 2 adapter) rather than relative to the episode start. */
  absolute: boolean;
}

/** One plottable array as kept in the index (jsonb). */
export interface IndexedTrack {
  name: string;
  topic: string;
  field: string;
  columns: string[];
  dtype: string;
  samples: number;
  data: DataRef;
  /** Null: no usable `_t_ns`, so samples are evenly spaced at the episode's fps. */
  time: TrackTime | null;
  warnings: string[];
}

export type TrackFileFormat = 'npz' | 'npy' | 'parquet' | 'arrow' | 'unknown';

export interface IndexedFile {
  format: TrackFileFormat;
  tracks: IndexedTrack[];
  /** File-level problems (unreadable file, skipped members, partial index). */
  warnings: string[];
}

/** Above this, a first `_t_ns` cannot be a time since the episode start (≈ 116 days): it is Unix-epoch ns. */
export const ABSOLUTE_NS_THRESHOLD = 10n ** 16n;
