#!/usr/bin/env node
// `npx robotrace …` at the repository root, as the README says. npm links a workspace's bin into
// node_modules/.bin only if its target exists at install time, and the SDK's bin (packages/sdk-ts/dist/cli/main.js)
// is build output, so a fresh clone gets no link and npx answers "could not determine executable to run".
// The root package.json names this launcher as the repository's own `robotrace` bin, which npx runs from the root.
// It (re)builds the SDK with its own tsconfig when dist is missing or older than a source, then runs the CLI.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const sdk = fileURLToPath(new URL('../packages/sdk-ts/', import.meta.url));
const main = join(sdk, 'dist/cli/main.js');

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((n) => newest(join(path, n))));
}

const inputs = ['src', 'tsconfig.build.json', 'package.json'].map((p) => join(sdk, p));
if (!existsSync(main) || inputs.some((p) => newest(p) > statSync(main).mtimeMs)) {
  // Progress and compiler errors go to stderr: stdout stays the CLI's own (`--json` output stays parseable).
  process.stderr.write('robotrace: building the CLI (packages/sdk-ts/dist) first…\n');
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const built = spawnSync(process.execPath, [tsc, '-p', join(sdk, 'tsconfig.build.json')], {
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (built.status !== 0) {
    process.stderr.write(
      'robotrace: the SDK did not build (see above); run `npm install` at the root first\n',
    );
    process.exit(built.status ?? 1);
  }
  chmodSync(main, 0o755);
}
await import(pathToFileURL(main).href);
