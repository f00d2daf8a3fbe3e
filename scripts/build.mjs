// Builds the server bundle (apps/web/dist) with esbuild. `--if-needed` skips the build when dist is newer
// than every source, so `npm start` builds only what is missing.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'apps/web/dist');
const entries = ['main', 'admin', 'migrate'].map((n) => join(root, `apps/web/src/${n}.ts`));
const sources = [
  'apps/web/src',
  'apps/web/public',
  'packages/contracts/src',
  'packages/core/src',
  'packages/db/src',
  'packages/db/migrations',
  'packages/storage/src',
  'package-lock.json',
];

function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((n) => newest(join(path, n))));
}

const stamp = join(out, 'main.js');
if (process.argv.includes('--if-needed') && existsSync(stamp)) {
  const built = statSync(stamp).mtimeMs;
  if (sources.every((s) => newest(join(root, s)) < built)) process.exit(0);
}

// Imported here, not at the top: in a checkout without node_modules (`npm run db:migrate` before `npm ci`) the
// operator gets the one step they missed instead of "Cannot find package 'esbuild'".
let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  console.error(
    'robotrace: the dependencies are not installed — run `npm ci` (or `npm install`) in the repository first',
  );
  process.exit(1);
}

const started = Date.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: entries,
  outdir: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [
    {
      // Workspace packages are bundled from source; every npm dependency stays external (node_modules).
      name: 'externalize-npm',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@robotrace/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
cpSync(join(root, 'packages/db/migrations'), join(out, 'migrations'), { recursive: true });
if (existsSync(join(root, 'apps/web/public')))
  cpSync(join(root, 'apps/web/public'), join(out, 'public'), { recursive: true });
process.stdout.write(`built apps/web/dist in ${Date.now() - started} ms\n`);
