// Approves (or denies) a `robotrace login` in a real Chromium, as its user would: open the verification link the
// CLI printed, sign in when asked, check the code on the page, click Authorize. Used by test_pillars.py.
// Usage: node pillars_browser.mjs <verification url> <user code> <email> <password> [approve|deny]
// Prints one JSON line: {"state": "...", "shown_code": "...", "signed_in_first": true}.
import { launchChromium } from './chromium.mjs';

const [url, code, email, password, decision = 'approve'] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(15_000);
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(url);
  const signedInFirst = new URL(page.url()).pathname === '/login';
  if (signedInFirst) {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/portal/cli/auth?code=*');
  }
  const shown = (await page.locator('[data-user-code]').textContent())?.trim() ?? '';
  if (shown !== code) throw new Error(`the page shows code ${shown}, the CLI printed ${code}`);
  await page.getByRole('button', { name: decision === 'approve' ? 'Authorize' : 'Deny' }).click();
  const state = await page.locator('[data-cli-auth-state]').getAttribute('data-cli-auth-state');
  console.log(JSON.stringify({ state, shown_code: shown, signed_in_first: signedInFirst, dialogs }));
} finally {
  await browser.close();
}
