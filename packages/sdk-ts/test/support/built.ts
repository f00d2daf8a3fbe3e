import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Builds dist/ with the package's own build script, as `npm pack` and users get it. */
export function buildPackage(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: PACKAGE_DIR, stdio: 'pipe' });
}
