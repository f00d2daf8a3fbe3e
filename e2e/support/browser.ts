import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

import chromiumConfig from './chromium.json' with { type: 'json' };

/** Debian's Chromium (`apt-get install -y chromium`); the flags live in chromium.json, shared with the Python tests' scripts. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? chromiumConfig.executablePath;
const ARGS = chromiumConfig.args;

export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'screenshots');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** A laptop-sized context that may use the clipboard (copy buttons) on any origin. */
export async function newContext(browser: Browser, colorScheme: 'light' | 'dark' = 'light') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  context.setDefaultTimeout(10_000);
  return context;
}

/**
 * Everything a page does that would mean an XSS probe ran: dialogs (alert/confirm/prompt) and uncaught
 * errors. Dialogs are dismissed so a probe can never block the test.
 */
export interface PageWatch {
  dialogs: string[];
  errors: string[];
  /** Console reports of something the Content-Security-Policy blocked (our pages should never trip it). */
  cspViolations: string[];
}

export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { dialogs: [], errors: [], cspViolations: [] };
  page.on('dialog', (d) => {
    watch.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => watch.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) watch.cspViolations.push(m.text());
  });
  return watch;
}

export async function readClipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

export async function clearClipboard(page: Page): Promise<void> {
  await page.evaluate(() => navigator.clipboard.writeText(''));
}

export async function signIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/portal/episodes');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Answers every request to `origin` locally, so "Open trace" targets never touch the network. */
export async function stubOrigin(context: BrowserContext, origin: string): Promise<void> {
  await context.route(`${origin}/**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>APM stub</title>' }),
  );
}
