// The image browser's annotation-state filter and its live grid, in a project of their own (other specs
// annotate and upload into project 1): a mask made through the API puts exactly its image under 'annotated' and
// the others under 'unannotated', a set made from that filter keeps the state in its query, and an upload shows
// in the grid within 2 s where the sort puts it, but not in a grid whose filter leaves it out.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, newPage, signInWithToken, openScreen, api, apiLogin, screenshot, fixtureImage } from './harness.mjs';

const shared = useBrowser();
let login = null;  // the admin's, taken by this file's own hook (node runs the before hooks concurrently)
let project = 0;
const images = [];  // ids of the project's first four images, in upload order

function upload(frame) {
  return api(login.token, 'POST', `/api/v1/projects/${project}/images?name=plate/t${frame}.png`,
    fixtureImage(`upload/images/exp1/pos01/t00${frame}_c0.png`), 'image/png');
}

before(async () => {
  login = await apiLogin();
  const created = await api(login.token, 'POST', '/api/v1/projects', { name: `browser-live-${Date.now()}` });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  project = created.body.id;
  for (let frame = 0; frame < 4; ++frame) {
    const r = await upload(frame);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    images.push(r.body.id);
  }
});

async function openGrid(hash) {
  const page = await newPage(shared.browser);
  await signInWithToken(page, login, project);
  await openScreen(page, hash);
  await page.waitForSelector('.grid-cell[data-image-id]');
  return page;
}

async function total(page) {
  return Number(await page.locator('.count-label').getAttribute('data-total'));
}

async function waitForTotal(page, count) {
  await page.waitForFunction((n) => document.querySelector('.count-label')?.dataset.total === String(n), count);
}

async function gridIds(page) {
  return page.locator('.grid-cell[data-image-id]').evaluateAll((cells) => cells
    .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index)).map((c) => Number(c.dataset.imageId)));
}

test('a mask made through the API puts exactly its image under "annotated", the others under "unannotated"', async () => {
  const started = Date.now();
  // A 10 x 10 square: COCO run lengths over the box, no background run, then 100 foreground pixels.
  const mask = await api(login.token, 'POST', `/api/v1/images/${images[1]}/annotations`,
    { kind: 'mask', bbox: [10, 10, 20, 20], mask_rle: { size: [10, 10], counts: [0, 100] } });
  assert.equal(mask.status, 201, JSON.stringify(mask.body));

  const page = await openGrid('#/images');
  assert.equal(await total(page), 4);
  await page.selectOption('select[aria-label="annotation state filter"]', 'annotated');
  await waitForTotal(page, 1);
  assert.deepEqual(await gridIds(page), [images[1]]);
  assert.match(page.url(), /annotation_state=annotated/);
  await screenshot(page, 'images-state-annotated');

  await page.selectOption('select[aria-label="annotation state filter"]', 'unannotated');
  await waitForTotal(page, 3);
  assert.deepEqual(await gridIds(page), [images[0], images[2], images[3]]);
  await screenshot(page, 'images-state-unannotated');

  // The state narrows together with a where, and a set made from the filter keeps both in its query.
  await page.fill('input[aria-label="where filter"]', "path like '%t3%'");
  await page.click('button:has-text("Apply")');
  await waitForTotal(page, 1);
  assert.deepEqual(await gridIds(page), [images[3]]);
  await page.click('button:has-text("Set from filter")');
  await page.fill('input[aria-label="set name"]', 'still-to-do');
  await page.click('button:has-text("Create set")');
  await page.waitForSelector('.toolbar-status:has-text("still-to-do")');
  const set = await api(login.token, 'GET', `/api/v1/projects/${project}/sets/still-to-do`);
  assert.equal(set.status, 200);
  assert.equal(set.body.image_count, 1);
  assert.equal(set.body.query, "annotation_state = 'unannotated' and (path like '%t3%')");
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
  console.log(`annotation-state spec: ${Date.now() - started} ms`);
});

test('an upload shows in the grid within 2 s where the sort puts it, and not where the filter leaves it out', async () => {
  const newestFirst = await openGrid('#/images?sort=imported_at&order=desc');
  const byId = await openGrid('#/images');
  const annotatedOnly = await openGrid('#/images?annotation_state=annotated');
  const [newestBefore, byIdBefore, annotatedBefore] = [await total(newestFirst), await total(byId), await total(annotatedOnly)];
  // Each page follows the feed: wait until its stream is open so the upload is not sent before it listens.
  for (const page of [newestFirst, byId, annotatedOnly]) await page.waitForSelector('.feed-status.feed-open');

  const uploaded = await upload(4);
  assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
  const sent = Date.now();
  const id = uploaded.body.id;
  await newestFirst.waitForSelector(`.grid-cell[data-index="0"][data-image-id="${id}"]`, { timeout: 2000 });
  const latency = Date.now() - sent;
  await newestFirst.waitForFunction((cell) => {
    const img = document.querySelector(`${cell} img`);
    return img && img.complete && img.naturalWidth > 0;
  }, `.grid-cell[data-image-id="${id}"]`);
  await screenshot(newestFirst, 'images-live-upload');
  assert.equal(await total(newestFirst), newestBefore + 1);
  assert.equal((await gridIds(newestFirst)).length, newestBefore + 1);

  // Sorted by id, the complete list gets it as its last cell.
  await byId.waitForSelector(`.grid-cell[data-index="${byIdBefore}"][data-image-id="${id}"]`, { timeout: 2000 });
  assert.equal(await total(byId), byIdBefore + 1);

  // The annotated-only grid asked the server too, and left it out.
  await annotatedOnly.waitForTimeout(500);
  assert.equal(await total(annotatedOnly), annotatedBefore);
  assert.equal(await annotatedOnly.locator(`.grid-cell[data-image-id="${id}"]`).count(), 0);
  for (const page of [newestFirst, byId, annotatedOnly]) {
    assert.deepEqual(page.consoleErrors, []);
    await page.context().close();
  }
  console.log(`live upload: shown newest-first after ${latency} ms`);
});
