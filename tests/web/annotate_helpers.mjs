// Helpers of the annotation specs (annotate, edit, lease): open the viewer of an image as a user, turn image
// pixels into screen points, drag strokes, wait for a condition, and read masks back through the API.
import assert from 'node:assert/strict';
import { newPage, signInWithToken, api, env } from './harness.mjs';

// The project's 'nucleus' tag (green), created unless an earlier spec made it.
export async function nucleusTag(token) {
  const created = await api(token, 'POST', '/api/v1/projects/1/tags', { name: 'nucleus', color: '#00ff00', kind: 'label' });
  assert.ok(created.status === 201 || created.status === 409, `tag: ${created.status}`);
  return (await api(token, 'GET', '/api/v1/projects/1/tags')).body.tags.find((t) => t.name === 'nucleus');
}

// The fixture's time-lapse images: position number (series 'exp1/1', 'exp1/2') -> images in frame order.
export async function framesByPosition(token) {
  const positions = {};
  for (const series of (await api(token, 'GET', '/api/v1/projects/1/series')).body.series) {
    positions[Number(series.name.split('/').pop())] = (await api(token, 'GET', `/api/v1/projects/1/images?series=${series.id}&sort=frame_index`)).body.images;
  }
  return positions;
}

// A page signed in as `login` on the viewer of imageId, once the map, the annotation list and the fitted view
// are there. `storage` entries are put in the page's localStorage before the app starts (e.g. a lease length).
export async function openViewer(browser, login, imageId, storage = {}) {
  const page = await newPage(browser);
  const pending = new Set();
  page.on('request', (r) => pending.add(r.url()));
  page.on('requestfinished', (r) => pending.delete(r.url()));
  page.on('requestfailed', (r) => pending.delete(r.url()));
  await signInWithToken(page, login);
  if (Object.keys(storage).length > 0) {
    await page.evaluate((entries) => { for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, String(v)); }, storage);
  }
  await page.goto(`${env.url}/#/viewer/${imageId}`);
  try {
    // The viewer's chunk (OpenLayers) loads on first use: on a 2-core machine under a build's load that has
    // taken 5-10 s, so allow a minute.
    await page.waitForSelector('[data-testid=viewer-map] canvas', { timeout: 60000 });
  } catch (err) {
    // Say what the screen shows and what it still waits for, rather than only that it timed out.
    const outlet = await page.locator('#outlet').textContent().catch(() => '?');
    throw new Error(`the viewer of image ${imageId} did not open: outlet '${outlet}', waiting for ${[...pending].join(', ')}: ${err.message}`);
  }
  await page.waitForSelector('[data-testid=mask-list] li');
  // The view has settled on the whole 256 x 256 image.
  await page.waitForFunction(() => Math.abs(Number(document.querySelector('[data-testid=viewer-map]').dataset.centerX) - 128) < 1);
  return page;
}

// The centre of the brightest 7 x 7 patch of the image (a nucleus), away from the border, from its raw file.
export async function brightestSpot(page, imageId) {
  return page.evaluate(async (id) => {
    const res = await fetch(`/api/v1/images/${id}/raw`, { headers: { Authorization: `Bearer ${localStorage.getItem('tessera.token')}` } });
    const bitmap = await createImageBitmap(await res.blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const g = canvas.getContext('2d');
    g.drawImage(bitmap, 0, 0);
    const { data, width, height } = g.getImageData(0, 0, bitmap.width, bitmap.height);
    let best = -1, bx = 0, by = 0;
    for (let y = 16; y < height - 16; ++y) {
      for (let x = 16; x < width - 16; ++x) {
        let sum = 0;
        for (let dy = -3; dy <= 3; ++dy) for (let dx = -3; dx <= 3; ++dx) sum += data[((y + dy) * width + x + dx) * 4];
        if (sum > best) [best, bx, by] = [sum, x, y];
      }
    }
    return [bx, by];
  }, imageId);
}

// Screen position of image pixel (x, y), from the view's centre and resolution the viewer publishes.
export async function imageToScreen(page, x, y) {
  const map = page.locator('[data-testid=viewer-map]');
  const box = await map.boundingBox();
  const [resolution, cx, cy] = await Promise.all(['data-resolution', 'data-center-x', 'data-center-y'].map((a) => map.getAttribute(a).then(Number)));
  return [box.x + box.width / 2 + (x + 0.5 - cx) / resolution, box.y + box.height / 2 + (y + 0.5 - cy) / resolution];
}

// A mouse drag between two image pixels (a brush, eraser, merge or outline stroke).
export async function drag(page, from, to) {
  await page.mouse.move(...(await imageToScreen(page, ...from)));
  await page.mouse.down();
  await page.mouse.move(...(await imageToScreen(page, ...to)), { steps: 12 });
  await page.mouse.up();
}

// Draws a polygon with the polygon tool (chosen already): clicks its corners, double-clicks the last one.
export async function drawPolygon(page, corners) {
  for (const [x, y] of corners.slice(0, -1)) await page.mouse.click(...(await imageToScreen(page, x, y)));
  await page.mouse.dblclick(...(await imageToScreen(page, ...corners[corners.length - 1])));
}

// Waits for the panel to say an edit waits in the queue until the server is back.
export function queuedNotice(page) {
  return page.waitForFunction(() => /queued and will be sent/.test(document.querySelector('[data-testid=annotate-status]').textContent));
}

export async function eventually(predicate, what, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A mask filling a box, sent as COCO RLE (one run of 0s of length 0, then every pixel set).
export const boxMask = (tagId, [x0, y0, x1, y1]) => ({
  kind: 'mask', tag_id: tagId, bbox: [x0, y0, x1, y1], mask_rle: { size: [y1 - y0, x1 - x0], counts: [0, (x1 - x0) * (y1 - y0)] },
});

// The number of set pixels of an annotation read with ?mask=rle.
export const maskArea = (a) => a.mask_rle.counts.filter((_, i) => i % 2 === 1).reduce((s, c) => s + c, 0);

// The set pixels of an annotation read with ?mask=rle, as a Set of "x,y" keys in image coordinates
// (COCO RLE runs down the columns of the bbox, starting with a run of 0s).
export function maskPixels(a) {
  const [x0, y0] = a.bbox;
  const [height] = a.mask_rle.size;
  const pixels = new Set();
  let position = 0;
  a.mask_rle.counts.forEach((run, i) => {
    if (i % 2 === 1) {
      for (let p = position; p < position + run; ++p) pixels.add(`${x0 + Math.floor(p / height)},${y0 + (p % height)}`);
    }
    position += run;
  });
  return pixels;
}
