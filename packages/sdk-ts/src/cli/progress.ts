import { basename } from 'node:path';
import type { UploadProgress } from '../upload.js';
import { formatBytes } from './format.js';
import type { CliStream } from './io.js';

const WIDTH = 24;
const REDRAW_EVERY_MS = 100;

/**
 * An upload progress bar on one terminal line, redrawn at most every 100 ms. Returns undefined when the stream
 * is not a terminal: logs and pipes get no carriage-return noise.
 */
export function progressBar(
  stream: CliStream,
): { onProgress: (p: UploadProgress) => void; end: () => void } | undefined {
  if (!stream.isTTY) return undefined;
  let lastDraw = 0;
  let drawn = false;
  const draw = (p: UploadProgress) => {
    const fraction = p.totalBytes === 0 ? 1 : p.sentBytes / p.totalBytes;
    const filled = Math.round(fraction * WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}`;
    const percent = `${Math.floor(fraction * 100)}`.padStart(3);
    stream.write(
      `\r\x1b[2K  ${p.kind.padEnd(7)} ${basename(p.path)}  ${bar} ${percent}%  ${formatBytes(p.sentBytes)} / ${formatBytes(p.totalBytes)}`,
    );
    drawn = true;
  };
  return {
    onProgress(p) {
      const now = Date.now();
      if (p.sentBytes === p.totalBytes || now - lastDraw >= REDRAW_EVERY_MS) {
        lastDraw = now;
        draw(p);
      }
    },
    end() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
