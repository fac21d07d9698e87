// The image browser on the imported fixture (2 positions x 8 frames): the grid, a --where filter and a bad
// one, sets made from the filter and from a shift-range selection, and an image showing its sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, signedInPage, api, screenshot } from './harness.mjs';

const shared = useBrowser({ login: true });

function openBrowser() {
  return signedInPage(shared.browser, shared.login, '#/images', '.grid-cell[data-image-id]');
}

async function total(page) {
  return Number(await page.locator('.count-label').getAttribute('data-total'));
}

test('the grid shows every imported image with thumbnails from the tile endpoint', async () => {
  const page = await openBrowser();
  assert.equal(await total(page), 16);
  assert.equal(await page.locator('.grid-cell[data-image-id]').count(), 16);
  await page.waitForFunction(() => [...document.querySelectorAll('.grid-cell img')].every((img) => img.complete && img.naturalWidth > 0));
  const marks = await page.evaluate(() => performance.getEntriesByType('mark').map((m) => m.name));
  assert.ok(marks.includes('tessera:first-tile') && marks.includes('tessera:interactive'), `marks: ${marks}`);
  await screenshot(page, 'images');
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('a where filter narrows the grid, a bad one is explained and keeps the results, and a set made from the filter stores its query', async () => {
  const page = await openBrowser();
  await page.fill('input[aria-label="where filter"]', 'position = 2 and time <');
  await page.click('button:has-text("Apply")');
  await page.waitForSelector('.filter-error:not(:empty)');
  assert.match(await page.locator('.filter-error').textContent(), /where|expected|value/i);
  assert.equal(await total(page), 16);

  await page.fill('input[aria-label="where filter"]', 'position = 2 and time < 5');
  await page.click('button:has-text("Apply")');
  await page.waitForFunction(() => document.querySelector('.count-label')?.dataset.total === '5');
  assert.equal(await page.locator('.grid-cell[data-image-id]').count(), 5);
  assert.match(page.url(), /where=position/);

  await page.click('button:has-text("Set from filter")');
  await page.fill('input[aria-label="set name"]', 'early-pos2');
  await page.click('button:has-text("Create set")');
  await page.waitForSelector('.toolbar-status:has-text("early-pos2")');
  await screenshot(page, 'images-filtered-set-created');
  const set = await api(shared.login.token, 'GET', '/api/v1/projects/1/sets/early-pos2');
  assert.equal(set.status, 200);
  assert.equal(set.body.image_count, 5);
  assert.equal(set.body.query, 'position = 2 and time < 5');

  // The new set is a filter choice, and an image of it lists it among its sets.
  await page.selectOption('select[aria-label="set filter"]', 'early-pos2');
  // The where filter still applies, so the count stays 5: wait for the set's line instead.
  await page.waitForSelector('.set-info:has-text("made from the filter position = 2 and time < 5")');
  assert.match(page.url(), /set=early-pos2/);
  await page.locator('.grid-cell[data-image-id]').first().click();
  await page.waitForSelector('.image-sets li:has-text("early-pos2")');
  await screenshot(page, 'images-detail');
  await page.context().close();
});

test('shift-click selects a range and a set is made from exactly those images', async () => {
  const page = await openBrowser();
  const cells = page.locator('.grid-cell[data-image-id]');
  await cells.nth(2).click();
  await cells.nth(6).click({ modifiers: ['Shift'] });
  await cells.nth(4).click({ modifiers: ['Control'] });  // ctrl toggles one out again
  assert.equal(await page.locator('.count-label').getAttribute('data-selected'), '4');
  const expected = [];
  for (const i of [2, 3, 5, 6]) expected.push(Number(await cells.nth(i).getAttribute('data-image-id')));
  await page.click('button:has-text("Set from selection")');
  await page.fill('input[aria-label="set name"]', 'hand-picked');
  await page.click('button:has-text("Create set")');
  await page.waitForSelector('.toolbar-status:has-text("hand-picked")');
  const listed = await api(shared.login.token, 'GET', '/api/v1/projects/1/images?set=hand-picked');
  assert.deepEqual(listed.body.images.map((i) => i.id).sort((a, b) => a - b), expected.sort((a, b) => a - b));
  await page.context().close();
});

test('"select all matching" selects the whole filter, and a set from it holds every match', async () => {
  const page = await openBrowser();
  await page.fill('input[aria-label="where filter"]', 'position = 1');
  await page.click('button:has-text("Apply")');
  await page.waitForFunction(() => document.querySelector('.count-label')?.dataset.total === '8');
  await page.click('button:has-text("Select all matching")');
  assert.equal(await page.locator('.count-label').getAttribute('data-selected'), '8');
  assert.equal(await page.locator('.grid-cell.selected').count(), 8);
  await page.click('button:has-text("Set from selection")');
  await page.fill('input[aria-label="set name"]', 'pos1');
  await page.click('button:has-text("Create set")');
  await page.waitForSelector('.toolbar-status:has-text("pos1")');
  const set = await api(shared.login.token, 'GET', '/api/v1/projects/1/sets/pos1');
  assert.equal(set.body.image_count, 8);
  assert.equal(set.body.query, 'position = 1');
  await page.context().close();
});
