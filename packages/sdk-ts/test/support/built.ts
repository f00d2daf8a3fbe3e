import { fileURLToPath } from 'node:url';

/** The package's directory (packages/sdk-ts), where `npm pack` runs. */
export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
