// The live feed panel: an upload through the API appears with its thumbnail within a second, and its focus
// score extends the series' sparkline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, signedInPage, api, screenshot, fixtureImage } from './harness.mjs';

const shared = useBrowser({ login: true });

test('an upload through the API appears in the feed panel within a second', async () => {
  const page = await signedInPage(shared.browser, shared.login, '#/images', '.feed-status.feed-open');
  await page.waitForSelector('.series-focus');  // history loaded from the imported series

  const png = fixtureImage('upload/images/exp1/pos01/t005_c0.png');
  const uploaded = await api(shared.login.token, 'POST', '/api/v1/projects/1/images?name=live/t100.png&series=live-run&frame=0',
    png, 'image/png');
  assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
  const sent = Date.now();
  await page.waitForSelector(`.feed-uploads li.upload[data-image-id="${uploaded.body.id}"]`, { timeout: 1000 });
  const latency = Date.now() - sent;
  assert.ok(latency < 1000, `shown after ${latency} ms`);
  await page.waitForFunction((id) => {
    const img = document.querySelector(`.feed-uploads li[data-image-id="${id}"] img`);
    return img && img.complete && img.naturalWidth > 0;
  }, uploaded.body.id);
  // Its focus score starts the sparkline of its series (one point so far: the marked last frame).
  await page.waitForSelector('.series-focus[data-series="live-run"] svg circle', { state: 'attached' });
  await screenshot(page, 'feed-upload');
  await page.context().close();
});

test('a focus drop in a series raises an alert in the panel', async () => {
  const page = await signedInPage(shared.browser, shared.login, '#/projects', '.feed-status.feed-open');
  // Four sharp frames, then a featureless one: its focus falls far below the rolling median.
  for (let t = 0; t < 4; ++t) {
    const r = await api(shared.login.token, 'POST', `/api/v1/projects/1/images?name=qc/t${t}.png&series=qc-run&frame=${t}`,
      fixtureImage(`upload/images/exp1/pos01/t00${t}_c0.png`), 'image/png');
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const blank = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(256, 256);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#202020';
    ctx.fillRect(0, 0, 256, 256);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return [...new Uint8Array(await blob.arrayBuffer())];
  });
  const r = await api(shared.login.token, 'POST', '/api/v1/projects/1/images?name=qc/t4.png&series=qc-run&frame=4',
    Buffer.from(blank), 'image/png');
  assert.equal(r.status, 201);
  assert.ok(r.body.focus_alert, `no focus alert in ${JSON.stringify(r.body)}`);
  await page.waitForSelector(`.feed-alerts li.alert[data-image-id="${r.body.id}"]`, { timeout: 2000 });
  await screenshot(page, 'feed-focus-alert');
  await page.context().close();
});

test('who is editing what: a lease taken through the API shows in the panel and leaves with its release', async () => {
  const page = await signedInPage(shared.browser, shared.login, '#/projects', '.feed-status.feed-open');
  const locked = await api(shared.login.token, 'POST', '/api/v1/images/3/lock', { ttl_seconds: 120 });
  assert.equal(locked.status, 201, JSON.stringify(locked.body));
  await page.waitForSelector('.feed-locks li[data-image-id="3"]:has-text("admin is editing")', { timeout: 2000 });
  await screenshot(page, 'feed-lock');
  const released = await api(shared.login.token, 'DELETE', '/api/v1/images/3/lock');
  assert.ok(released.status < 300, JSON.stringify(released.body));
  await page.waitForSelector('.feed-locks li[data-image-id="3"]', { state: 'detached', timeout: 2000 });
  await page.context().close();
});

test('a job shows with a progress bar that moves, and its end state', async () => {
  const page = await signedInPage(shared.browser, shared.login, '#/projects', '.feed-status.feed-open');
  const queued = await api(shared.login.token, 'POST', '/api/v1/projects/1/jobs', { kind: 'wait', params: { ms: 1500 } });
  assert.equal(queued.status, 202, JSON.stringify(queued.body));
  const id = queued.body.job.id;
  await page.waitForFunction((jobId) => {
    const bar = document.querySelector(`.feed-jobs li[data-job-id="${jobId}"] progress`);
    return bar && bar.value > 0 && bar.value < 1;
  }, id, { timeout: 5000 });
  await page.waitForSelector(`.feed-jobs li[data-job-id="${id}"][data-state="succeeded"]`, { timeout: 10000 });
  assert.equal(await page.locator(`.feed-jobs li[data-job-id="${id}"] progress`).evaluate((bar) => bar.value), 1);
  await page.context().close();
});
