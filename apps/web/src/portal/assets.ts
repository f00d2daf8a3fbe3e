import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError } from '@robotrace/core';
import type { Router } from '../http/router.js';

/** The portal's static files (one CSS, one JS, the icon), read once at start and served with a content hash. */
const FILES: Record<string, string> = {
  'portal.css': 'text/css; charset=utf-8',
  'portal.js': 'text/javascript; charset=utf-8',
  // The span lane (issue 15): loaded deferred on every page, it only acts on [data-trace-card] / [data-trace-waterfall].
  'span-lane.js': 'text/javascript; charset=utf-8',
  'span-lane.css': 'text/css; charset=utf-8',
  // The replay player (issue 14): deferred on every page, it only acts on [data-replay] (episode and compare pages).
  'replay.js': 'text/javascript; charset=utf-8',
  // The axis and lane drawing replay.js and replay-compare.js share; loaded deferred just before replay.js.
  'replay-timeline.js': 'text/javascript; charset=utf-8',
  'replay.css': 'text/css; charset=utf-8',
  // Compare (several episodes on one timeline): loaded by replay.js only on /portal/compare.
  'replay-compare.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
  hash: string;
}

export interface Assets {
  /** `/assets/<name>?v=<hash>` */
  url: (name: keyof typeof FILES) => string;
  register: (router: Router) => void;
}

/** dist/public next to the bundle; apps/web/public when running from source. */
function publicDir(): string {
  for (const rel of ['./public/', '../../public/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}portal.js`)) return dir;
  }
  throw new Error('portal assets not found: run `node scripts/build.mjs` (it copies apps/web/public)');
}

export function loadAssets(): Assets {
  const dir = publicDir();
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(FILES)) {
    const body = readFileSync(`${dir}${name}`);
    assets.set(name, { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) });
  }
  return {
    url: (name) => `/assets/${name}?v=${assets.get(name)?.hash ?? ''}`,
    register(router) {
      router.on('GET', '/assets/:name', (ctx) => {
        const asset = assets.get(ctx.params.name ?? '');
        if (!asset) throw new AppError(404, 'not_found', 'No such asset');
        const current = ctx.url.searchParams.get('v') === asset.hash;
        ctx.res.writeHead(200, {
          'content-type': asset.type,
          'content-length': asset.body.length,
          // Versioned URLs never change; an unversioned request gets a short cache.
          'cache-control': current ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
          etag: `"${asset.hash}"`,
        });
        ctx.res.end(ctx.req.method === 'HEAD' ? undefined : asset.body);
      });
    },
  };
}
