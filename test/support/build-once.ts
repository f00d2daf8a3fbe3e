import { execFileSync } from 'node:child_process';

/** Integration and e2e tests run the built server, exactly as `npm start` does. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { stdio: 'inherit' });
}
