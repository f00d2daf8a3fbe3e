// Starts Chromium for the Node scripts the Python tests drive, with exactly the e2e suite's path and flags
// (e2e/support/chromium.json), so the two never drift apart.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const config = JSON.parse(readFileSync(new URL('../../e2e/support/chromium.json', import.meta.url), 'utf8'));

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? config.executablePath,
    args: config.args,
  });
}
