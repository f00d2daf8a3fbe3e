// Opens an episode page in a real Chromium at ?t=<ms>, signed in, and reports what the replay player drew.
// Used by test_replay_tracks.py. Usage: node test_replay_tracks_browser.mjs <base url> <episode id> <t ms> <email> <password>
// Prints one JSON line: {"state", "lanes": [aria-label…], "drawn": {name: data-drawn}, "cursor_ns", "errors"}.
import { launchChromium } from './chromium.mjs';

const [base, id, tMs, email, password] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(20_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/portal/**');
  await page.goto(`${base}/portal/episodes/${id}?t=${tMs}`);
  await page.locator('[data-replay][data-state="ready"]').waitFor();
  // Every visible lane has answered (drawn or an error), not just the first.
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-replay] section[data-track]')].every((s) => s.dataset.drawn),
  );
  const out = await page.evaluate(() => {
    const root = document.querySelector('[data-replay]');
    const lanes = [...root.querySelectorAll('section[data-track]')];
    return {
      state: root.dataset.state,
      lanes: lanes.map((s) => s.getAttribute('aria-label')),
      drawn: Object.fromEntries(lanes.map((s) => [s.dataset.track, s.dataset.drawn])),
      cursor_ns: root.dataset.cursorNs,
    };
  });
  console.log(JSON.stringify({ ...out, errors }));
} finally {
  await browser.close();
}
