// Mask edits of the annotation screen against the real server, checked pixel by pixel through the API: a brush
// stroke that starts on an accepted mask adds to that mask (no second, overlapping object) and the eraser takes
// from it, each undone by Undo; point markers plus an outline stroke split two touching objects along the
// outline, and a skeleton stroke merges them back; edits made while the server is down wait in the queue and
// replay, and one the server refuses on replay is listed, not dropped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, apiLogin, api, screenshot, stopServer, startServer } from './harness.mjs';
import { openViewer, nucleusTag, framesByPosition, imageToScreen, brightestSpot, drag, drawPolygon, queuedNotice, eventually, boxMask, maskArea, maskPixels } from './annotate_helpers.mjs';

let browser;
let admin;
let tag;
let frames; // position 1 in frame order: frames 0, 1, 3 and 4 are written by no other spec
before(async () => {
  browser = await launchBrowser();
  admin = await apiLogin();
  tag = await nucleusTag(admin.token);
  frames = (await framesByPosition(admin.token))[1];
});
after(async () => { await browser?.close(); });

const withMask = async (id) => (await api(admin.token, 'GET', `/api/v1/annotations/${id}?mask=rle`)).body;
const listed = async (imageId) => (await api(admin.token, 'GET', `/api/v1/images/${imageId}/annotations`)).body.annotations;

// Pixels whose centres lie within `radius` of the segment a-b (the brush's footprint), as "x,y" keys.
function capsule([ax, ay], [bx, by], radius) {
  const pixels = new Set();
  const dx = bx - ax, dy = by - ay, length2 = dx * dx + dy * dy;
  for (let y = Math.floor(Math.min(ay, by) - radius); y <= Math.ceil(Math.max(ay, by) + radius); ++y) {
    for (let x = Math.floor(Math.min(ax, bx) - radius); x <= Math.ceil(Math.max(ax, bx) + radius); ++x) {
      const px = x + 0.5, py = y + 0.5;
      const t = length2 > 0 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / length2)) : 0;
      const ex = px - (ax + t * dx), ey = py - (ay + t * dy);
      if (ex * ex + ey * ey <= radius * radius) pixels.add(`${x},${y}`);
    }
  }
  return pixels;
}
const missing = (from, all) => [...from].filter((p) => !all.has(p));
const common = (a, b) => [...a].filter((p) => b.has(p));
const sameSet = (a, b) => a.size === b.size && missing(a, b).length === 0;

async function useTool(page, name, radius) {
  await page.click(`[data-testid=tool-${name}]`);
  if (radius !== undefined) await page.fill(`[data-testid=${name}-radius]`, String(radius));
}

async function undo(page, id, expected, what) {
  await page.click('[data-testid=undo]');
  await eventually(async () => sameSet(maskPixels(await withMask(id)), expected), what);
}

test('a brush stroke starting on an accepted mask adds to that mask, the eraser takes from it, undo restores each', async () => {
  const image = frames[0];
  const page = await openViewer(browser, admin, image.id);
  await page.selectOption('[data-testid=tag-select]', { label: 'nucleus' });
  const [x, y] = await brightestSpot(page, image.id);
  await page.click('[data-testid=tool-points]');
  await page.mouse.click(...(await imageToScreen(page, x, y)));
  await page.waitForSelector('[data-testid=preview-status][data-state=ready]', { timeout: 30000 });
  await page.click('[data-testid=accept-mask]');
  const row = page.locator('[data-testid^=mask-row-]');
  await row.first().waitFor();
  const id = Number(await row.first().getAttribute('data-annotation-id'));
  const accepted = await withMask(id);
  const original = maskPixels(accepted);
  assert.ok(original.has(`${x},${y}`), 'the accepted mask holds the clicked pixel');

  // Nothing selected in the list: the stroke starts on the mask, so it paints onto it.
  const radius = 4;
  const direction = x < 128 ? 1 : -1;
  const from = [x, y], to = [x + direction * 40, y];
  await useTool(page, 'brush', radius);
  await drag(page, from, to);
  await eventually(async () => (await withMask(id)).version > accepted.version, 'the painted mask');
  const painted = await withMask(id);
  const stroke = [[x + 0.5, y + 0.5], [to[0] + 0.5, to[1] + 0.5]];
  const paintedPixels = maskPixels(painted);
  assert.deepEqual(missing(original, paintedPixels), [], 'the mask keeps every pixel it had');
  assert.deepEqual(missing(capsule(...stroke, radius - 1), paintedPixels), [], 'the stroke\'s core is painted');
  const allowed = new Set([...original, ...capsule(...stroke, radius + 1)]);
  assert.deepEqual(missing(paintedPixels, allowed), [], 'nothing is painted beyond the stroke');
  assert.ok(maskArea(painted) > maskArea(accepted) + 40, `area ${maskArea(accepted)} -> ${maskArea(painted)}`);
  assert.equal(painted.source, 'manual');
  assert.deepEqual((await listed(image.id)).map((a) => a.id), [id], 'still one object on the image');
  await screenshot(page, 'edit-brush-onto-mask');

  await undo(page, id, original, 'undo to restore the accepted mask');
  assert.equal((await listed(image.id)).length, 1);

  // The eraser, again with nothing selected, from the mask's centre outwards through its edge.
  await useTool(page, 'eraser', radius);
  const erasedFrom = (await withMask(id)).version;
  await drag(page, from, [x - direction * 40, y]);
  await eventually(async () => (await withMask(id)).version > erasedFrom, 'the erased mask');
  const erased = maskPixels(await withMask(id));
  const cut = [[x + 0.5, y + 0.5], [x - direction * 40 + 0.5, y + 0.5]];
  assert.deepEqual(common(erased, capsule(...cut, radius - 1)), [], 'the stroke\'s core is erased');
  assert.deepEqual(missing(erased, original), [], 'the eraser adds nothing');
  assert.deepEqual(missing(new Set(missing(original, capsule(...cut, radius + 1))), erased), [], 'only the stroke is erased');
  assert.ok(erased.size < original.size - 20, `area ${original.size} -> ${erased.size}`);
  await screenshot(page, 'edit-eraser-on-mask');

  await undo(page, id, original, 'undo to restore the erased mask');
  await page.context().close();
});

test('markers and an outline stroke split two touching objects along the outline; a skeleton stroke merges them back; undo takes back each whole', async () => {
  const image = frames[1];
  const page = await openViewer(browser, admin, image.id);
  // Two rod-shaped cells end to end, [20, 60) and [60, 80) along x, stored as one mask. The true boundary at
  // x = 60 is not halfway between the cells' centres (x = 40 and 70): a cut that ignored the outline would
  // fall elsewhere.
  const stored = await api(admin.token, 'POST', `/api/v1/images/${image.id}/annotations`, boxMask(tag.id, [20, 20, 80, 40]));
  assert.equal(stored.status, 201);
  const id = stored.body.id;
  await page.waitForSelector(`[data-testid=mask-row-${id}]`);
  await page.click(`[data-testid=mask-select-${id}]`);
  await useTool(page, 'split');
  for (const [mx, my] of [[40, 30], [70, 30]]) await page.mouse.click(...(await imageToScreen(page, mx, my)));
  await page.click('[data-testid=split-outline]');
  await drag(page, [60, 12], [60, 48]);
  await page.waitForFunction(() => /2 marker\(s\), an outline/.test(document.querySelector('.tool-area').textContent));
  await page.click('[data-testid=split-apply]');
  await eventually(async () => (await page.locator('[data-testid^=mask-row-]').count()) === 2, 'two masks after the split');

  const parts = await Promise.all((await listed(image.id)).map((a) => withMask(a.id)));
  assert.equal(parts.length, 2);
  const [left, right] = parts.sort((a, b) => a.bbox[0] - b.bbox[0]);
  assert.equal(left.id, id, 'the original keeps the first marker\'s part');
  const xs = (a) => [...maskPixels(a)].map((p) => Number(p.split(',')[0]));
  // The outline, drawn down the middle of column 60, becomes background (the server cuts a 3 px stroke about
  // 5 px wide); each cell keeps its side, up to the cut, which is centred on column 60.
  const [leftEnd, rightStart] = [Math.max(...xs(left)), Math.min(...xs(right))];
  assert.ok(leftEnd >= 57 && leftEnd <= 59 && rightStart >= 61 && rightStart <= 63 && Math.abs(leftEnd + rightStart - 120) <= 1,
    `the cut between x = ${leftEnd} and ${rightStart} is centred on column 60`);
  assert.deepEqual([left.bbox[0], left.bbox[1], left.bbox[3]], [20, 20, 40]);
  assert.deepEqual([right.bbox[1], right.bbox[2], right.bbox[3]], [20, 80, 40]);
  const area = maskArea(left) + maskArea(right);
  assert.ok(area >= 1200 - 6 * 20 && area <= 1200 - 2 * 20, `the cells hold ${area} of 1200 pixels (the outline's column left out)`);
  // Every row of each cell is whole up to the cut: the cut runs straight down the outline.
  for (const [cell, x0, x1] of [[left, 20, 57], [right, 63, 80]]) {
    const pixels = maskPixels(cell);
    for (let yy = 20; yy < 40; ++yy) for (let xx = x0; xx < x1; ++xx) assert.ok(pixels.has(`${xx},${yy}`), `cell ${cell.id} holds ${xx},${yy}`);
  }
  await screenshot(page, 'edit-split-by-outline');

  await useTool(page, 'merge');
  await drag(page, [40, 30], [70, 30]);
  await eventually(async () => (await page.locator('[data-testid^=mask-row-]').count()) === 1, 'one mask after the merge');
  const merged = await withMask(id);
  assert.deepEqual(merged.bbox, [20, 20, 80, 40]);
  const mergedPixels = maskPixels(merged);
  assert.ok(mergedPixels.size > area && mergedPixels.size <= 1200, `merged area ${mergedPixels.size}`);
  for (let xx = 56; xx < 64; ++xx) assert.ok(mergedPixels.has(`${xx},30`), `the skeleton stroke bridges the cut at ${xx},30`);
  assert.equal((await listed(image.id)).length, 1);
  await screenshot(page, 'edit-merged-by-skeleton');

  // Undo takes back a whole edit, not one of the changes it made: the merge (the kept mask grown, the other
  // deleted), then the split (the original cut, the new part created).
  const status = (pattern) => page.waitForFunction((p) => new RegExp(p).test(document.querySelector('[data-testid=annotate-status]').textContent), pattern);
  await page.click('[data-testid=undo]');
  await status('Done: undo merge');
  const unmerged = await Promise.all((await listed(image.id)).map((a) => withMask(a.id)));
  assert.deepEqual(unmerged.map((a) => a.id).sort(), [left.id, right.id].sort());
  for (const part of [left, right]) {
    assert.ok(sameSet(maskPixels(unmerged.find((a) => a.id === part.id)), maskPixels(part)), `cell ${part.id} as the split left it`);
  }
  await page.click('[data-testid=undo]');
  await status('Done: undo split');
  assert.deepEqual((await listed(image.id)).map((a) => a.id), [id]);
  assert.equal(maskArea(await withMask(id)), 1200, 'the stored mask whole again');
  await page.context().close();
});

test('offline: a polygon drawn before the lease was taken waits and is stored, a brush stroke is refused with a message, a second delete of one mask is refused on replay and listed', async () => {
  const image = frames[3];
  const stored = await api(admin.token, 'POST', `/api/v1/images/${image.id}/annotations`, boxMask(tag.id, [100, 100, 120, 120]));
  assert.equal(stored.status, 201);
  const maskId = stored.body.id;
  const page = await openViewer(browser, admin, image.id);
  await page.waitForSelector(`[data-testid=mask-row-${maskId}]`);
  await page.click('[data-testid=tool-polygon]');
  await stopServer();
  try {
    // No lease yet: the first edit cannot take it while the server is down, and must wait, not be lost.
    await drawPolygon(page, [[20, 20], [60, 20], [40, 60]]);
    await queuedNotice(page);
    // A brush stroke onto the mask needs the mask's pixels from the server: it is refused, and says so.
    await useTool(page, 'brush', 4);
    await drag(page, [110, 110], [130, 110]);
    await page.waitForFunction(() => /Cannot paint: .*cannot be reached/.test(document.querySelector('[data-testid=annotate-status]').textContent));
    // The mask deleted twice (the list cannot refresh meanwhile): the first delete will go through, the second
    // is based on a version that no longer exists.
    for (let i = 0; i < 2; ++i) {
      page.once('dialog', (dialog) => dialog.accept());
      await page.click(`[data-testid=mask-delete-${maskId}]`);
    }
    await page.waitForSelector('#banner .banner-pending[data-pending="3"]');
    await screenshot(page, 'edit-queued-offline');
  } finally {
    await startServer();
  }
  await page.waitForSelector('#banner .banner-refused li', { timeout: 30000 });
  assert.match(await page.locator('#banner .banner-refused').textContent(), new RegExp(`delete annotation ${maskId}`));
  await page.waitForSelector('[data-testid^=mask-row-]:has-text("polygon")', { timeout: 30000 });
  const now = await listed(image.id);
  assert.deepEqual(now.map((a) => a.kind), ['polygon'], 'the polygon stored once and the mask deleted');
  assert.equal((await withMask(maskId)).deleted, true);
  await screenshot(page, 'edit-replayed-with-refusal');
  await page.context().close();
});
