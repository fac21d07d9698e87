// The viewer and measurement screens on the imported fixture (2 positions x 8 frames of 256 x 256 16-bit
// nuclei): tiles load and the view zooms from the whole image down to single pixels and back, the scale bar
// follows, a contrast window reaches the tile URLs, the series slider and playback step through the frames;
// measured objects are tabled and plotted, and a point of the scatter opens the object in the viewer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchBrowser, newPage, apiLogin, api, signInWithToken, screenshot, tessera, env } from './harness.mjs';

let browser;
let login;
let frames; // images of position 1, in frame order
before(async () => {
  browser = await launchBrowser();
  login = await apiLogin();
  const series = await api(login.token, 'GET', '/api/v1/projects/1/series');
  const first = series.body.series.find((s) => s.frame_count === 8);
  const listing = await api(login.token, 'GET', `/api/v1/projects/1/images?series=${first.id}&sort=frame_index`);
  frames = listing.body.images;
  assert.equal(frames.length, 8);
});
after(async () => { await browser?.close(); });

async function openViewer(imageId) {
  const page = await newPage(browser);
  page.failedResponses = [];
  page.on('response', (r) => { if (r.status() >= 400) page.failedResponses.push(`${r.status()} ${r.url()}`); });
  await signInWithToken(page, login);
  await page.goto(`${env.url}/#/viewer/${imageId}`);
  // The viewer's chunk (OpenLayers) loads on first use; under load that has taken 5-10 s.
  await page.waitForSelector('[data-testid=viewer-map][data-tiles-loaded]', { timeout: 60000 });
  assert.equal(await page.locator('[data-testid=viewer-map]').getAttribute('data-tiles-failed'), null);
  return page;
}

// Pixels of the map's canvases whose red and blue differ by more than 30: none for grey tiles.
function colouredPixels(page) {
  return page.evaluate(() => {
    let count = 0;
    for (const canvas of document.querySelectorAll('[data-testid=viewer-map] canvas')) {
      const context = canvas.getContext('2d');
      if (!context || canvas.width === 0) continue;
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && Math.abs(data[i] - data[i + 2]) > 30) ++count;
    }
    return count;
  });
}

// Polls measure() until done(value) or 10 s pass (tiles load and render asynchronously); returns the last value.
async function settle(measure, done) {
  const deadline = Date.now() + 10000;
  let value = await measure();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    value = await measure();
  }
  return value;
}

const resolution = (page) => page.locator('[data-testid=viewer-map]').getAttribute('data-resolution').then(Number);

test('the viewer loads tiles and zooms from the whole image to single pixels and back; the scale bar follows', async () => {
  const page = await openViewer(frames[0].id);
  const whole = await resolution(page);
  // The whole 256-px image fits the map: well under one image pixel per screen pixel on a 700-px map.
  assert.ok(whole > 0.2 && whole < 1, `fitted resolution ${whole}`);
  const barAtFit = await page.locator('[data-testid=scale-bar]').textContent();
  await screenshot(page, 'viewer');

  for (let i = 0; i < 6; ++i) {
    await page.click('[data-testid=zoom-in]');
    await page.waitForTimeout(300);
  }
  const zoomed = await resolution(page);
  // The deepest level shows one image pixel over 16 screen pixels.
  assert.equal(zoomed, 0.0625);
  const barZoomed = await page.locator('[data-testid=scale-bar]').textContent();
  assert.notEqual(barZoomed, barAtFit);
  assert.match(barZoomed, /^\d+(\.\d+)? px$/);
  await screenshot(page, 'viewer-zoomed-to-pixels');

  for (let i = 0; i < 10; ++i) await page.click('[data-testid=zoom-out]');
  await page.waitForTimeout(400);
  // Zooming out stops at the coarsest level of the pyramid (the whole image in one tile).
  assert.equal(await resolution(page), 1);
  // Chromium's own favicon request (no page response) logs a 'Failed to load resource'; failed API or
  // tile answers are checked through the responses instead.
  assert.deepEqual(page.consoleErrors.filter((e) => !/^Failed to load resource/.test(e)), []);
  assert.deepEqual(page.failedResponses, []);
  await page.context().close();
});

test('a contrast window set by hand reaches the tile URLs, Auto goes back to the resolved percentiles, and a colour map colours the tiles', async () => {
  const page = await openViewer(frames[0].id);
  const windowed = page.waitForResponse((r) => /\/tiles\/\d+\/\d+\/\d+\.png\?.*min=100.*max=3000/.test(r.url()) && r.status() === 200);
  await page.evaluate(() => {
    for (const [id, value] of [['window-min', '100'], ['window-max', '3000']]) {
      const input = document.querySelector(`[data-testid=${id}]`);
      input.value = value;
      input.dispatchEvent(new Event('change'));
    }
  });
  await windowed;
  assert.match(await page.locator('[data-testid=window-value]').textContent(), /100 \.\. 3000 \(manual\)/);
  await screenshot(page, 'viewer-contrast-window');
  await page.click('[data-testid=window-auto]');
  await page.waitForFunction(() => /percentiles/.test(document.querySelector('[data-testid=window-value]').textContent));

  // The grey tiles are drawn in colour once a colour map is chosen ('fire': bright nuclei turn yellow-red).
  assert.equal(await colouredPixels(page), 0);
  await page.selectOption('[data-testid=lut]', 'fire');
  assert.ok(await settle(() => colouredPixels(page), (n) => n >= 100) >= 100, 'the fire colour map shows in the map canvas');
  await screenshot(page, 'viewer-lut-fire');
  await page.context().close();
});

test('the series slider opens the next frame and playback steps through the series tiles', async () => {
  const page = await openViewer(frames[0].id);
  assert.match(await page.locator('[data-testid=frame-label]').textContent(), /frame 0 \(1 of 8\)/);
  await page.evaluate(() => {
    const slider = document.querySelector('[data-testid=frame-slider]');
    slider.value = '3';
    slider.dispatchEvent(new Event('input'));
  });
  await page.waitForFunction((id) => location.hash.startsWith(`#/viewer/${id}`), frames[3].id);
  await page.waitForFunction(() => /frame 3 \(4 of 8\)/.test(document.querySelector('[data-testid=frame-label]')?.textContent ?? ''));

  const seen = new Set();
  page.on('response', (r) => {
    const match = /\/images\/(\d+)\/tiles\/\d+\/\d+\/\d+\.png/.exec(r.url());
    if (match && r.status() === 200) seen.add(Number(match[1]));
  });
  await page.click('[data-testid=play]');
  await page.waitForFunction(() => /frame [0-7] \(\d of 8\)/.test(document.querySelector('[data-testid=frame-label]').textContent));
  await page.waitForTimeout(2500);
  await page.click('[data-testid=play]');
  // At 5 frames a second, 2.5 s of playback shows tiles of several other frames.
  assert.ok(seen.size >= 4, `tiles of ${seen.size} frames seen during playback`);
  await page.context().close();
});

test('measured objects are tabled and plotted; a scatter point opens the object in the viewer', async () => {
  const image = frames[1];
  const created = await api(login.token, 'POST', '/api/v1/projects/1/sets', { name: 'measure-one', image_ids: [image.id] });
  assert.equal(created.status, 201);
  tessera('measure', '--set', 'measure-one', '--csv', '/dev/null');
  const objects = (await api(login.token, 'GET', `/api/v1/images/${image.id}/objects`)).body.objects;
  assert.ok(objects.length >= 3, `${objects.length} objects measured`);

  const page = await newPage(browser);
  await signInWithToken(page, login);
  await page.goto(`${env.url}/#/measure/${image.id}`);
  await page.waitForSelector('[data-testid=objects-table] tbody tr');
  assert.equal(await page.locator('[data-testid=objects-table] tbody tr').count(), objects.length);
  assert.equal(await page.locator('[data-testid=measure-chart] circle.point').count(), objects.length);
  await screenshot(page, 'measure-scatter');

  await page.selectOption('[data-testid=chart-mode]', 'histogram');
  const bars = page.locator('[data-testid=measure-chart] rect.bar');
  assert.ok(await bars.count() > 0);
  const counted = await bars.evaluateAll((rects) => rects.reduce((sum, r) => sum + Number(r.dataset.count), 0));
  assert.equal(counted, objects.length);
  await screenshot(page, 'measure-histogram');

  await page.selectOption('[data-testid=chart-mode]', 'scatter');
  const target = objects[0];
  await page.click(`[data-testid=measure-chart] circle[data-object-id="${target.id}"]`, { force: true });
  await page.waitForFunction((id) => location.hash.includes(`object=${id}`), target.id);
  assert.match(page.url(), new RegExp(`#/viewer/${image.id}\\?box=${target.bbox.join(',')}`));
  await page.waitForSelector('[data-testid=viewer-map] canvas', { timeout: 60000 });
  // The view settles centred on the object's box (once the panel beside the map is laid out).
  const [x0, y0, x1, y1] = target.bbox;
  await page.waitForFunction(([cx, cy]) => {
    const map = document.querySelector('[data-testid=viewer-map]');
    return Math.abs(Number(map.dataset.centerX) - cx) < 2 && Math.abs(Number(map.dataset.centerY) - cy) < 2;
  }, [(x0 + x1) / 2, (y0 + y1) / 2]);
  await screenshot(page, 'viewer-object-from-measurements');
  await page.context().close();
});

test('an RGB image shows channel toggles that reach the tile URLs, and its pixel size from metadata sizes the scale bar in µm', async () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'tessera-viewer-'));
  tessera('synth', 'plankton', folder, '--images', '1', '--width', '300', '--height', '200', '--seed', '4');
  const file = readdirSync(folder, { recursive: true }).find((f) => f.endsWith('.png'));
  const metadata = encodeURIComponent(JSON.stringify({ pixel_size_um: 0.65 }));
  const uploaded = await api(login.token, 'POST', `/api/v1/projects/1/images?name=plankton-rgb.png&metadata=${metadata}`,
    readFileSync(path.join(folder, file)), 'image/png');
  rmSync(folder, { recursive: true, force: true });
  assert.ok(uploaded.status === 201 || uploaded.status === 200, `upload: ${uploaded.status}`);
  assert.equal(uploaded.body.channels, 3);

  const page = await openViewer(uploaded.body.id);
  // 300 px fitted into a ~700 px map: 0.65 µm pixels at ~0.43 image px per screen px; the bar is a round
  // number of µm.
  assert.match(await page.locator('[data-testid=scale-bar]').textContent(), /^\d+ µm$/);
  const greenOnly = page.waitForResponse((r) => /\/tiles\/\d+\/\d+\/\d+\.png\?.*channels=1(&|$)/.test(r.url()) && r.status() === 200);
  // Two channels cannot be shown (grey, RGB or RGBA only): unticking red leaves green alone.
  await page.uncheck('[data-testid=channel-0]');
  await greenOnly;
  assert.deepEqual(await Promise.all([0, 1, 2].map((c) => page.locator(`[data-testid=channel-${c}]`).isChecked())), [false, true, false]);
  // One channel is drawn grey: the brown organisms lose their colour on the map.
  assert.equal(await settle(() => colouredPixels(page), (n) => n === 0), 0);
  await screenshot(page, 'viewer-rgb-one-channel');
  await page.context().close();
});
