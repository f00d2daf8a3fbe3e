import type { ArtifactKind } from './wire.js';

/** The PUT Content-Type follows the slot, not the file (what the official SDK sends and the server allows). */
export function contentTypeFor(kind: ArtifactKind): string {
  return kind === 'video' ? 'video/mp4' : 'application/octet-stream';
}
