import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { TrackWindowQuery } from '@robotrace/contracts';
import { AppError } from '../../src/errors.js';
import { listTracks, readTrackWindowJson, type TrackDeps } from '../../src/tracks/index.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const PUBLIC = join(ROOT, 'apps/web/public');

export interface PlayerPage {
  episodeId: string;
  fps?: number | null;
  durationS?: number | null;
  failureTimeS?: number | null;
  videoPath?: string | null;
}

/**
 * The player's page as the portal would serve it — the same CSP (nonce'd scripts only, no inline style), one
 * <script> and one container — and the two track routes answered by the real core functions. The portal wiring
 * is the lead's; this is the page contract the player is written against.
 */
export async function startPlayerHarness(deps: TrackDeps, scope: { projectId: string }, pages: PlayerPage[]) {
  const requests: string[] = [];
  const byId = new Map(pages.map((p) => [p.episodeId, p]));
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push(url.pathname + url.search);
      const parts = url.pathname.split('/').filter(Boolean);
      try {
        if (url.pathname === '/favicon.ico') {
          res.writeHead(204);
          res.end();
          return;
        }
        if (parts[0] === 'page' && parts[1]) {
          const page = byId.get(parts[1]);
          if (!page) throw new AppError(404, 'not_found', 'no page');
          const nonce = randomBytes(12).toString('base64');
          const attrs = [
            `data-episode-id="${page.episodeId}"`,
            page.fps ? `data-fps="${page.fps}"` : '',
            page.durationS ? `data-duration-s="${page.durationS}"` : '',
            page.failureTimeS !== undefined && page.failureTimeS !== null
              ? `data-failure-time-s="${page.failureTimeS}"`
              : '',
            page.videoPath ? `data-video-url="/video/${page.episodeId}"` : '',
          ].join(' ');
          res.writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': `default-src 'self'; script-src 'nonce-${nonce}' 'strict-dynamic'; style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'`,
          });
          res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>replay</title></head><body>
<main><div data-replay ${attrs}></div></main>
<script src="/assets/replay-timeline.js" nonce="${nonce}"></script>
<script src="/assets/replay.js" nonce="${nonce}"></script></body></html>`);
          return;
        }
        // replay.js draws with the timeline shared with compare (replay-timeline.js, loaded first as the portal does).
        const asset = parts[0] === 'assets' ? parts[1] : undefined;
        if (asset && ['replay.js', 'replay-timeline.js', 'replay.css'].includes(asset)) {
          res.writeHead(200, { 'content-type': asset.endsWith('.js') ? 'text/javascript' : 'text/css' });
          res.end(readFileSync(join(PUBLIC, asset)));
          return;
        }
        if (parts[0] === 'video' && parts[1]) {
          const path = byId.get(parts[1])?.videoPath;
          if (!path) throw new AppError(404, 'not_found', 'no video');
          const size = statSync(path).size;
          const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
          const start = range ? Number(range[1]) : 0;
          const end = range?.[2] ? Number(range[2]) : size - 1;
          res.writeHead(range ? 206 : 200, {
            'content-type': 'video/mp4',
            'accept-ranges': 'bytes',
            'content-length': end - start + 1,
            ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
          });
          createReadStream(path, { start, end }).pipe(res);
          return;
        }
        if (parts[0] === 'api' && parts[1] === 'episodes' && parts[2] && parts[3] === 'tracks') {
          const rawName = url.pathname.split('/').slice(5).join('/');
          // A window comes serialized (and from the window cache when deps has one), as the server sends it.
          const body = rawName
            ? await readTrackWindowJson(
                deps,
                scope,
                parts[2],
                decodeURIComponent(rawName),
                TrackWindowQuery.parse(Object.fromEntries(url.searchParams)),
              )
            : JSON.stringify(await listTracks(deps, scope, parts[2]));
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(body);
          return;
        }
        throw new AppError(404, 'not_found', 'Not found');
      } catch (err) {
        const status = err instanceof AppError ? err.status : 500;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (err as Error).message, code: 'x', request_id: 'test' }));
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
