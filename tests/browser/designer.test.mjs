// The page designer in headless Chromium against the real demo server:
// build a page by drag and drop (columns > card > form > two fields), move
// a node between slots, undo and redo three steps from the keyboard, bind
// the form's submit to a message, save, open the published page, submit
// the form (refused, then accepted) and find the submission in the admin
// API and its CSV export.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN, browser, screenshots, startServer } from './support.mjs';

test('designer builds a nested page by drag and drop, undoes, publishes, and its form is submitted', async (t) => {
  const { child, url } = await startServer();
  t.after(() => child.kill('SIGKILL'));
  const context = await browser({ width: 1400, height: 1100 });
  t.after(() => context.close());
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const shots = screenshots();

  await page.goto(`${url}/designer?page=signup`);
  await page.waitForSelector('html[data-designer-ready]');
  await page.waitForSelector('#page-status:has-text("new page signup")');
  const drag = (material, target) => page.locator(`.palette-item[data-material="${material}"]`).dragTo(target);
  const node = (material) => page.locator(`.d-node[data-material="${material}"]`);

  // Columns on the page, a card in the left column, a form in the card's
  // body, two fields in the form; a text in the right column.
  await drag('columns', page.locator('#nodes .d-top'));
  await drag('card', page.locator('.d-slot[data-slot="left"]'));
  await drag('form', page.locator('.d-node[data-material="card"] .d-slot[data-slot="body"]'));
  await drag('form-input', page.locator('.d-slot[data-slot="fields"]'));
  await drag('form-input', page.locator('.d-slot[data-slot="fields"]'));
  await drag('text', page.locator('.d-slot[data-slot="right"]'));
  assert.equal(await node('form-input').count(), 2);
  assert.equal(await page.locator('.d-slot[data-slot="fields"] > .d-node').count(), 2, 'both fields are in the form');
  assert.equal(await page.locator('.d-slot[data-slot="right"] > .d-node[data-material="text"]').count(), 1);

  // Move the text from the right column into the card's body, above the form.
  await node('text').dragTo(page.locator('.d-node[data-material="form"]'), { targetPosition: { x: 40, y: 4 } });
  await page.waitForSelector('.d-slot[data-slot="body"] > .d-node[data-material="text"]');
  assert.equal(await page.locator('.d-slot[data-slot="right"] > .d-node').count(), 0, 'the text left the right column');
  const bodyOrder = await page.locator('.d-slot[data-slot="body"] > .d-node').evaluateAll((nodes) => nodes.map((n) => n.dataset.material));
  assert.deepEqual(bodyOrder, ['text', 'form']);

  // The outline shows the tree.
  const outline = await page.textContent('#outline');
  for (const part of ['Columns', 'left', 'Card', 'body', 'Form', 'fields', 'Form field']) {
    assert.ok(outline.toLowerCase().includes(part.toLowerCase()), `outline lacks ${part}: ${outline}`);
  }

  // Three edits of the second field, each its own step.
  const second = node('form-input').nth(1);
  await second.locator('.node-bar').click();
  await page.fill('#prop-label', 'Your name');
  await page.fill('#prop-name', 'name');
  await page.selectOption('#prop-kind', 'text');
  await second.locator('.preview label:has-text("Your name")').waitFor();
  // Undo the three from the keyboard: the field is as it was dropped.
  await page.evaluate(() => document.activeElement.blur());
  for (let i = 0; i < 3; i += 1) await page.keyboard.press('Control+z');
  await node('form-input').nth(1).locator('.preview label:has-text("Email")').waitFor();
  assert.equal(await node('form-input').nth(1).locator('.preview input[type="email"]').count(), 1);
  // Redo them: back to a required-less text field called name.
  for (let i = 0; i < 3; i += 1) await page.keyboard.press('Control+Shift+z');
  await node('form-input').nth(1).locator('.preview label:has-text("Your name")').waitFor();
  assert.equal(await node('form-input').nth(1).locator('.preview input[type="text"][name="name"]').count(), 1);

  // Duplicate and delete: the page is back to two fields.
  await node('form-input').nth(1).locator('.node-bar').click();
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('Control+d');
  assert.equal(await node('form-input').count(), 3);
  await page.keyboard.press('Delete');
  assert.equal(await node('form-input').count(), 2);
  // Copy the text and paste it: after it, in the same slot; undo that.
  await node('text').locator('.node-bar').click();
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('Control+c');
  await page.keyboard.press('Control+v');
  const afterPaste = await page.locator('.d-slot[data-slot="body"] > .d-node').evaluateAll((nodes) => nodes.map((n) => n.dataset.material));
  assert.deepEqual(afterPaste, ['text', 'text', 'form']);
  await page.keyboard.press('Control+z');
  assert.equal(await node('text').count(), 1);

  // The first field is required; the form's submit shows a message.
  await node('form-input').first().locator('.node-bar').click();
  await page.check('#prop-required');
  await node('form').locator('> .node-bar').click();
  await page.selectOption('select[data-event="submit"]', 'show-message');
  await page.fill('input[aria-label="submit Message"]', 'Thanks, we will be in touch.');
  await page.screenshot({ path: join(shots, 'designer-nested.png'), fullPage: true });

  await page.click('#save');
  await page.waitForSelector('#page-status:has-text("saved revision 1")');
  // Reload: the tree comes back from the server.
  await page.reload();
  await page.waitForSelector('#page-status:has-text("loaded revision 1")');
  await page.waitForSelector('.d-slot[data-slot="fields"] > .d-node[data-material="form-input"] >> nth=1');

  // The published page: server-rendered, with the runtime for its form.
  const response = await page.request.get(`${url}/p/signup`);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-inline'; style-src 'self'|unsafe-eval/);
  const published = await context.newPage();
  published.on('pageerror', (err) => pageErrors.push(err.message));
  await published.goto(`${url}/p/signup`);
  await published.waitForSelector('html[data-hangar-runtime="ready"]');
  await published.locator('.hm-columns .hm-card form input[name="email"]').waitFor();

  // A submission missing the required field: the browser's own check stops
  // it; past that (a client that skips it), the server refuses it.
  await published.fill('input[name="name"]', 'Ann');
  assert.equal(await published.evaluate(() => document.querySelector('form').checkValidity()), false);
  await published.evaluate(() => document.querySelector('input[name="email"]').removeAttribute('required'));
  await published.click('form button[type="submit"]');
  await published.locator('.hm-field-error:has-text("is required")').waitFor();
  // Then accepted.
  await published.fill('input[name="email"]', 'ann@example.com');
  await published.click('form button[type="submit"]');
  await published.locator('.hm-message:has-text("Thanks, we will be in touch.")').waitFor();
  await published.screenshot({ path: join(shots, 'published-form.png'), fullPage: true });

  // The admin console lists it.
  const adminPage = await context.newPage();
  await adminPage.goto(`${url}/admin`);
  await adminPage.fill('#token', ADMIN);
  await adminPage.click('#login-form button');
  await adminPage.waitForSelector('#console:not([hidden])');
  await adminPage.fill('#submissions-page', 'signup');
  await adminPage.click('#submissions-form button:not([type=button])');
  const row = adminPage.locator('#submissions tbody tr[data-submission="1"]');
  await row.waitFor();
  assert.match(await row.textContent(), /ann@example\.com.*Ann|Ann.*ann@example\.com/);
  await adminPage.screenshot({ path: join(shots, 'admin-submissions.png'), fullPage: true });

  const admin = { authorization: `Bearer ${ADMIN}` };
  const listed = await (await page.request.get(`${url}/api/admin/pages/signup/submissions`, { headers: admin })).json();
  assert.equal(listed.submissions.length, 1, JSON.stringify(listed));
  assert.deepEqual(listed.submissions[0].values, { email: 'ann@example.com', name: 'Ann' });
  const csv = await (await page.request.get(`${url}/api/admin/pages/signup/submissions.csv`, { headers: admin })).text();
  assert.match(csv, /^id,submitted_at,form,revision,email,name\n1,\d{4}-\d\d-\d\dT[^,]+,form-[a-z0-9]+,1,ann@example.com,Ann\n$/);
  assert.deepEqual(pageErrors, []);
});
