import type { ArtifactKind } from '@robotrace/contracts';
import type { ByteSource } from './byte-source.js';
import type { IndexRow } from './episode-index.js';
import type { IndexedFile, TrackFileFormat } from './model.js';
import { type IndexContext, indexNpy, indexNpz } from './npz-index.js';
import { indexArrow, indexParquet } from './table-index.js';

/** The file's extension in warnings (`sensors.npz: …`), by the format its bytes showed. */
export const EXT: Record<TrackFileFormat, string> = {
  npz: '.npz',
  npy: '.npy',
  parquet: '.parquet',
  arrow: '.arrow',
  unknown: '',
};

/** The format by its magic bytes, never by the upload's name. */
export async function sniff(source: ByteSource): Promise<TrackFileFormat> {
  const head = await source.read(0, 8);
  const ascii = new TextDecoder('latin1').decode(head);
  if (ascii.startsWith('PK\u0003\u0004') || ascii.startsWith('PK\u0005\u0006')) return 'npz';
  if (ascii.startsWith('\u0093NUMPY')) return 'npy';
  if (ascii.startsWith('PAR1')) return 'parquet';
  if (
    ascii.startsWith('ARROW1') ||
    (head.byteLength >= 4 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff)
  )
    return 'arrow';
  return 'unknown';
}

/** Names one index of one file: its cached copies and windows belong to it and go when it is replaced. */
export const artifactKeyOf = (
  row: Pick<IndexRow, 'projectId' | 'episodeId' | 'artifactKind' | 'indexedAt'>,
) => `${row.projectId}/${row.episodeId}/${row.artifactKind}@${row.indexedAt.getTime()}`;

/** Detects the format by its magic bytes and indexes the file; warnings name it `<kind>.<ext>`. */
export async function indexTrackFile(
  source: ByteSource,
  kind: ArtifactKind,
  ctx: Omit<IndexContext, 'label'>,
): Promise<IndexedFile> {
  const format = await sniff(source);
  return indexFile(source, format, { ...ctx, label: `${kind}${EXT[format]}` }, kind);
}

export async function indexFile(
  source: ByteSource,
  format: TrackFileFormat,
  ctx: IndexContext,
  kind: ArtifactKind,
): Promise<IndexedFile> {
  if (format === 'npz') return indexNpz(source, ctx);
  if (format === 'npy') return indexNpy(source, ctx, kind);
  if (format === 'parquet') return indexParquet(source, ctx, kind);
  if (format === 'arrow') return indexArrow(source, ctx, kind);
  return {
    format,
    tracks: [],
    warnings: [`${kind}: not a track file we can read (NPZ, .npy, Parquet, Feather/Arrow) — no tracks`],
  };
}
