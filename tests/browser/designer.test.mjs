// The page designer in headless Chromium against the real demo server: add
// a button, set its label, see the preview change, save, reload, see it
// persisted, open the published page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { browser, screenshots, startServer } from './support.mjs';

test('designer builds, saves, reloads and publishes a page', async (t) => {
  const { child, url } = await startServer();
  t.after(() => child.kill('SIGKILL'));
  const context = await browser();
  t.after(() => context.close());
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const shots = screenshots();

  await page.goto(`${url}/designer?page=landing`);
  await page.waitForSelector('.palette-item[data-material="button"]');
  await page.waitForSelector('#page-status:has-text("new page landing")');

  // A realistic page: heading, card, form field, button.
  await page.click('.palette-item[data-material="text"]');
  await page.fill('#prop-text', 'Spring courses are open');
  await page.selectOption('#prop-level', 'h1');
  await page.click('.palette-item[data-material="card"]');
  await page.fill('#prop-title', 'Data engineering, 8 weeks');
  await page.click('.palette-item[data-material="form-input"]');
  await page.check('#prop-required');
  await page.click('.palette-item[data-material="button"]');
  const button = page.locator('#nodes li[data-material="button"] .preview');
  await button.locator('text=Click me').waitFor();

  // Set its label: the preview follows.
  await page.fill('#prop-label', 'Sign up now');
  await button.locator('a:has-text("Sign up now")').waitFor();

  // The server's validation message shows under the field.
  await page.fill('#prop-label', '');
  await page.waitForSelector('#props .message[data-field="label"]:not(:empty)');
  await page.fill('#prop-label', 'Sign up now');
  await button.locator('a:has-text("Sign up now")').waitFor();
  await page.screenshot({ path: join(shots, 'designer.png'), fullPage: true });

  await page.click('#save');
  await page.waitForSelector('#page-status:has-text("saved revision 1")');

  // Reload: the page comes back from the server.
  await page.reload();
  await page.waitForSelector('#page-status:has-text("loaded revision 1")');
  await page.locator('#nodes li[data-material="button"] .preview a:has-text("Sign up now")').waitFor();
  assert.equal(await page.locator('#nodes li').count(), 4);

  // Reorder and save again: revision 2.
  await page.click('#nodes li[data-material="button"]');
  await page.click('#nodes li[data-material="button"] button[title="move up"]');
  await page.click('#save');
  await page.waitForSelector('#page-status:has-text("saved revision 2")');

  // The published page, rendered by the server from the pinned versions.
  const [published] = await Promise.all([context.waitForEvent('page'), page.click('#open')]);
  await published.waitForLoadState();
  await published.locator('h1:has-text("Spring courses are open")').waitFor();
  const html = await published.content();
  assert.ok(html.indexOf('Sign up now') < html.indexOf('type="email"'), 'button moved above the field');
  assert.ok(html.includes('Data engineering, 8 weeks'));
  await published.screenshot({ path: join(shots, 'published-page.png'), fullPage: true });
  assert.deepEqual(pageErrors, []);
});
