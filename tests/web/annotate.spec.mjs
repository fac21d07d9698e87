// The annotation panel of the viewer against the real server: + points give a live mask preview, Accept stores
// it with the tag and colour, it is listed and drawn, hidden and shown, deleted and brought back by undo, and
// propagated through the series with flagged frames listed; polygon and brush strokes store annotations; mask
// edits and the tag manager; two users in two browser contexts: the second sees the first's lock and gets the
// conflict message naming them; a viewer gets no editing tools.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, apiLogin, api, screenshot, env, stopServer, startServer } from './harness.mjs';
import { openViewer as openViewerOf, nucleusTag, framesByPosition, imageToScreen, brightestSpot, drag, drawPolygon, queuedNotice, eventually, boxMask, maskArea } from './annotate_helpers.mjs';

let browser;
let admin;
let tag;
let positions; // position number -> images in frame order
before(async () => {
  browser = await launchBrowser();
  admin = await apiLogin();
  tag = await nucleusTag(admin.token);
  positions = await framesByPosition(admin.token);
});
after(async () => { await browser?.close(); });

const openViewer = (login, imageId) => openViewerOf(browser, login, imageId);

// Whether the map's canvases show the green of the 'nucleus' tag at a screen point.
async function greenAt(page, [sx, sy]) {
  return page.evaluate(([sx, sy]) => {
    for (const canvas of document.querySelectorAll('[data-testid=viewer-map] canvas')) {
      const r = canvas.getBoundingClientRect();
      if (sx < r.left || sy < r.top || sx >= r.right || sy >= r.bottom) continue;
      const context = canvas.getContext('2d');
      if (!context) continue;
      const [red, green, blue, alpha] = context.getImageData(Math.floor((sx - r.left) * canvas.width / r.width), Math.floor((sy - r.top) * canvas.height / r.height), 1, 1).data;
      if (alpha > 0 && green > red + 60 && green > blue + 60) return true;
    }
    return false;
  }, [sx, sy]);
}

const annotation = async (id) => (await api(admin.token, 'GET', `/api/v1/annotations/${id}`)).body;

test('points make a live preview; the accepted mask is listed and drawn, hidden, deleted, undone and propagated', async () => {
  const image = positions[2][0];
  const page = await openViewer(admin, image.id);
  await page.selectOption('[data-testid=tag-select]', { label: 'nucleus' });
  const [x, y] = await brightestSpot(page, image.id);
  const at = await imageToScreen(page, x, y);

  await page.click('[data-testid=tool-points]');
  await page.mouse.click(...at);
  await page.waitForSelector('[data-testid=preview-status][data-state=ready]', { timeout: 30000 });
  await page.waitForSelector('[data-testid=lock-status][data-state=mine]');
  await eventually(() => greenAt(page, at), 'the preview drawn over the nucleus');
  await screenshot(page, 'annotate-preview');

  await page.click('[data-testid=accept-mask]');
  const row = page.locator('[data-testid^=mask-row-]');
  await row.first().waitFor();
  const id = Number(await row.first().getAttribute('data-annotation-id'));
  const saved = await annotation(id);
  assert.equal(saved.kind, 'mask');
  assert.equal(saved.source, 'generated');
  assert.equal(saved.tag_id, tag.id);
  assert.equal(saved.color, '#00ff00');
  const [x0, y0, x1, y1] = saved.bbox;
  assert.ok(x0 <= x && x < x1 && y0 <= y && y < y1, `bbox ${saved.bbox} holds the click ${x}, ${y}`);
  assert.match(await row.first().textContent(), /mask.*nucleus.*generated/);
  await eventually(() => greenAt(page, at), 'the stored mask drawn over the nucleus');
  await screenshot(page, 'annotate-accepted');

  await page.uncheck(`[data-testid=mask-visible-${id}]`);
  await eventually(async () => !(await greenAt(page, at)), 'the hidden mask to disappear');
  await page.check(`[data-testid=mask-visible-${id}]`);
  await eventually(() => greenAt(page, at), 'the mask to show again');

  page.once('dialog', (dialog) => dialog.accept());
  await page.click(`[data-testid=mask-delete-${id}]`);
  await page.waitForSelector(`[data-testid=mask-row-${id}]`, { state: 'detached' });
  assert.equal((await annotation(id)).deleted, true);
  await eventually(async () => !(await greenAt(page, at)), 'the deleted mask to disappear');

  await page.click('[data-testid=undo]');
  await page.waitForSelector(`[data-testid=mask-row-${id}]`);
  assert.equal((await annotation(id)).deleted, false);

  await page.click('[data-testid=propagate]');
  await page.waitForFunction(() => /^Done:/.test(document.querySelector('[data-testid=propagation-status]').textContent), null, { timeout: 120000 });
  const masks = (await api(admin.token, 'GET', `/api/v1/series/${image.series_id}/masks?tag_id=${tag.id}`)).body.masks;
  const frames = new Set(masks.map((m) => m.image_id));
  assert.ok(masks.length >= 8 && frames.size >= 8, `${masks.length} masks of the tag over ${frames.size} images after propagation`);
  await screenshot(page, 'annotate-propagated');

  // Again with every mask below confidence 1 flagged: the flagged frames are listed, and a click opens one.
  await page.fill('[data-testid=min-confidence]', '1');
  await page.click('[data-testid=propagate]');
  await page.waitForFunction(() => /^Done: 0 created, [1-9]\d* updated/.test(document.querySelector('[data-testid=propagation-status]').textContent), null, { timeout: 120000 });
  const flagged = page.locator('[data-testid=flagged-frames] a');
  assert.ok(await flagged.count() >= 1);
  await screenshot(page, 'annotate-propagated-flagged');
  const target = Number(/#\/viewer\/(\d+)/.exec(await flagged.first().getAttribute('href'))[1]);
  assert.notEqual(target, image.id);
  await flagged.first().click();
  await page.waitForFunction((id) => location.hash === `#/viewer/${id}`, target);
  await page.waitForSelector('[data-testid^=mask-row-] .review-flag');

  // Leaving the screen released the lease.
  await page.goto(`${env.url}/#/projects`);
  await eventually(async () => (await api(admin.token, 'GET', `/api/v1/images/${image.id}/lock`)).body.locked === false, 'the lease to be released');
  await page.context().close();
});

test('a polygon and a brush stroke are stored as annotations of the chosen tag', async () => {
  const image = positions[1][2];
  const page = await openViewer(admin, image.id);
  await page.selectOption('[data-testid=tag-select]', { label: 'nucleus' });
  await page.click('[data-testid=tool-polygon]');
  await drawPolygon(page, [[40, 40], [90, 45], [70, 90]]);
  const polygonRow = page.locator('[data-testid^=mask-row-]', { hasText: 'polygon' });
  await polygonRow.waitFor();
  const polygon = await annotation(Number(await polygonRow.getAttribute('data-annotation-id')));
  assert.equal(polygon.kind, 'polygon');
  assert.equal(polygon.geometry.points.length, 3);
  assert.equal(polygon.tag_id, tag.id);

  await page.click('[data-testid=tool-brush]');
  const from = await imageToScreen(page, 150, 150), to = await imageToScreen(page, 200, 170);
  await page.mouse.move(...from);
  await page.mouse.down();
  await page.mouse.move(...to, { steps: 12 });
  await page.mouse.up();
  const brushRow = page.locator('[data-testid^=mask-row-]', { hasText: 'mask' });
  await brushRow.waitFor();
  const painted = await annotation(Number(await brushRow.getAttribute('data-annotation-id')));
  assert.equal(painted.kind, 'mask');
  const [x0, y0, x1, y1] = painted.bbox;
  // A stroke from (150, 150) to (200, 170) with the default radius of 6 px.
  assert.ok(x0 >= 140 && x0 <= 146 && x1 >= 204 && x1 <= 210 && y0 >= 140 && y1 <= 180, `brush bbox ${painted.bbox}`);
  await screenshot(page, 'annotate-polygon-and-brush');
  await page.context().close();
});

test('two users: the second sees the first one\'s lock and gets the conflict message naming them', async () => {
  const out = execFileSync(env.bin, ['user', 'add', 'bob', '--generate', '--role', 'editor'], { env: process.env, encoding: 'utf8' });
  const bob = await apiLogin('bob', /password: (\S+)/.exec(out)[1]);
  const image = positions[1][5];

  const alicePage = await openViewer(admin, image.id);
  const [x, y] = await brightestSpot(alicePage, image.id);
  await alicePage.click('[data-testid=tool-points]');
  await alicePage.mouse.click(...(await imageToScreen(alicePage, x, y)));
  await alicePage.waitForSelector('[data-testid=lock-status][data-state=mine]');

  const bobPage = await openViewer(bob, image.id);
  await bobPage.waitForSelector('[data-testid=lock-status][data-state=other]');
  assert.match(await bobPage.locator('[data-testid=lock-status]').textContent(), new RegExp(`Locked by ${env.admin} until`));
  await screenshot(bobPage, 'annotate-lock-held-by-other');

  await bobPage.click('[data-testid=tool-points]');
  await bobPage.mouse.click(...(await imageToScreen(bobPage, x, y)));
  await bobPage.waitForFunction(() => /locked by/i.test(document.querySelector('[data-testid=annotate-status]').textContent));
  const message = await bobPage.locator('[data-testid=annotate-status]').textContent();
  assert.match(message, new RegExp(`locked by '?${env.admin}'? until`));
  await screenshot(bobPage, 'annotate-lock-conflict');
  // Nothing of bob's was stored.
  assert.equal((await api(bob.token, 'GET', `/api/v1/images/${image.id}/annotations`)).body.annotations.length, 0);

  // Alice leaves: her lease goes, and bob's screen says the image is free.
  await alicePage.goto(`${env.url}/#/projects`);
  await bobPage.waitForSelector('[data-testid=lock-status][data-state=free]', { timeout: 10000 });
  await alicePage.context().close();
  await bobPage.context().close();
});

test('tag manager, merge stroke, split markers, eraser, and deleting a tag\'s masks through the series', async () => {
  const image = positions[1][7];
  const page = await openViewer(admin, image.id);
  await page.click('summary:has-text("Manage tags")');
  await page.fill('[data-testid=new-tag-name]', 'cell');
  await page.evaluate(() => { const input = document.querySelector('[data-testid=new-tag-color]'); input.value = '#ff00ff'; });
  await page.click('[data-testid=add-tag]');
  await page.waitForFunction(() => document.querySelector('[data-testid=tag-select] option:checked')?.textContent === 'cell');
  let cell = (await api(admin.token, 'GET', '/api/v1/projects/1/tags')).body.tags.find((t) => t.name === 'cell');
  assert.equal(cell.color, '#ff00ff');
  await page.evaluate(() => {
    const input = document.querySelector('[data-testid=tag-color-cell]');
    input.value = '#ffaa00';
    input.dispatchEvent(new Event('change'));
  });
  await eventually(async () => (await api(admin.token, 'GET', '/api/v1/projects/1/tags')).body.tags.find((t) => t.name === 'cell').color === '#ffaa00', 'the recoloured tag');

  // Two touching parts of one object, as a segmenter that over-split it would leave them; the panel picks
  // them up from the feed.
  for (const box of [[20, 20, 40, 40], [40, 20, 60, 40]]) {
    assert.equal((await api(admin.token, 'POST', `/api/v1/images/${image.id}/annotations`, boxMask(cell.id, box))).status, 201);
  }
  await eventually(async () => (await page.locator('[data-testid^=mask-row-]').count()) === 2, 'both masks listed');
  await screenshot(page, 'annotate-edits-before-merge');

  await page.click('[data-testid=tool-merge]');
  await drag(page, [25, 30], [55, 30]);
  await eventually(async () => (await page.locator('[data-testid^=mask-row-]').count()) === 1, 'one mask after the merge');
  const mergedId = Number(await page.locator('[data-testid^=mask-row-]').getAttribute('data-annotation-id'));
  const merged = (await api(admin.token, 'GET', `/api/v1/annotations/${mergedId}?mask=rle`)).body;
  assert.deepEqual(merged.bbox, [20, 20, 60, 40]);
  assert.equal(maskArea(merged), 800);

  await page.click(`[data-testid=mask-select-${mergedId}]`);
  await page.click('[data-testid=tool-split]');
  for (const [x, y] of [[28, 30], [52, 30]]) await page.mouse.click(...(await imageToScreen(page, x, y)));
  await page.click('[data-testid=split-apply]');
  await eventually(async () => (await page.locator('[data-testid^=mask-row-]').count()) === 2, 'two masks after the split');
  const parts = (await api(admin.token, 'GET', `/api/v1/images/${image.id}/annotations?tag=cell`)).body.annotations;
  assert.equal(parts.length, 2);
  await screenshot(page, 'annotate-edits-after-split');

  // Erase a band through the left part.
  const left = parts.find((p) => p.bbox[0] === 20);
  const before = (await api(admin.token, 'GET', `/api/v1/annotations/${left.id}?mask=rle`)).body;
  // The split kept the first marker's part in the mask selected for it: select the left part unless it still is.
  if (!/selected/.test(await page.locator(`[data-testid=mask-row-${left.id}]`).getAttribute('class'))) {
    await page.click(`[data-testid=mask-select-${left.id}]`);
  }
  await page.waitForSelector(`[data-testid=mask-row-${left.id}].selected`);
  await page.click('[data-testid=tool-eraser]');
  await drag(page, [30, 15], [30, 45]);
  await eventually(async () => (await annotation(left.id)).version > before.version, 'the erased mask');
  const after = (await api(admin.token, 'GET', `/api/v1/annotations/${left.id}?mask=rle`)).body;
  assert.ok(maskArea(after) < maskArea(before) - 100, `area ${maskArea(before)} -> ${maskArea(after)}`);
  assert.equal(after.source, 'manual');

  page.once('dialog', (dialog) => dialog.accept());
  await page.click(`[data-testid=delete-tag-series-${cell.id}]`);
  await eventually(async () => (await page.locator('[data-testid^=mask-row-]').count()) === 0, 'no mask left');
  const series = (await api(admin.token, 'GET', `/api/v1/series/${image.series_id}/masks?tag_id=${cell.id}`)).body;
  assert.equal(series.masks.length, 0);
  await page.context().close();
});

test('a project viewer sees the annotations but gets no editing tools', async () => {
  const out = execFileSync(env.bin, ['user', 'add', 'vera', '--generate', '--role', 'viewer'], { env: process.env, encoding: 'utf8' });
  const vera = await apiLogin('vera', /password: (\S+)/.exec(out)[1]);
  const page = await openViewer(vera, positions[2][0].id);
  assert.ok(await page.locator('[data-testid^=mask-row-]').count() >= 1);
  assert.equal(await page.locator('[data-testid^=tool-]').count(), 0);
  assert.equal(await page.locator('[data-testid^=mask-delete-]').count(), 0);
  assert.match(await page.locator('.viewer-side').textContent(), /Your role in this project is viewer/);
  await screenshot(page, 'annotate-viewer-role');
  await page.context().close();
});

test('a polygon drawn while the server is down waits in the queue, says so, and is stored when the server is back', async () => {
  const image = positions[1][6]; // no other test writes on this frame
  const page = await openViewer(admin, image.id);
  await page.click('[data-testid=tool-points]');
  await page.mouse.click(...(await imageToScreen(page, 128, 128)));
  await page.waitForSelector('[data-testid=lock-status][data-state=mine]');
  await page.click('[data-testid=tool-polygon]');
  await stopServer();
  try {
    await drawPolygon(page, [[20, 20], [60, 20], [40, 60]]);
    await queuedNotice(page);
    await screenshot(page, 'annotate-edit-queued-offline');
  } finally {
    await startServer();
  }
  await page.waitForSelector('[data-testid^=mask-row-]:has-text("polygon")', { timeout: 30000 });
  const stored = (await api(admin.token, 'GET', `/api/v1/images/${image.id}/annotations`)).body.annotations;
  assert.deepEqual(stored.map((a) => a.kind), ['polygon']);
  await page.context().close();
});
