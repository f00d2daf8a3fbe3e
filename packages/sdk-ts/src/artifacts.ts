import { extname } from 'node:path';
import type { ArtifactKind } from './wire.js';

/** The PUT Content-Type follows the slot, not the file (what the official SDK sends and the server allows). */
export function contentTypeFor(kind: ArtifactKind): string {
  return kind === 'video' ? 'video/mp4' : 'application/octet-stream';
}

const KIND_BY_EXTENSION: Record<string, ArtifactKind> = {
  '.mp4': 'video',
  '.webm': 'video',
  '.mov': 'video',
  '.m4v': 'video',
  '.bin': 'sensors',
  '.npy': 'sensors',
  '.npz': 'sensors',
  '.h5': 'sensors',
  '.hdf5': 'sensors',
  '.parquet': 'actions',
  '.feather': 'actions',
  '.arrow': 'actions',
};

/** The slot a file most likely belongs to, from its extension (the guide the official SDK uses). */
export function guessArtifactKind(path: string): ArtifactKind | undefined {
  return KIND_BY_EXTENSION[extname(path).toLowerCase()];
}
