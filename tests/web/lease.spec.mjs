// The image lease of the annotation screen against the real server, with a 6 s lease (localStorage
// 'tessera.lease_seconds'; the UI's default is 120 s) so renewal and expiry happen within a test: while a user
// edits, the lease is renewed before it expires; closing the tab or navigating away releases it at once, so a
// colleague takes the image straight after; a tab that could not send the release (it crashed) leaves a
// lease that expires on its own after its length; an edit queued while the user was offline, replayed after a colleague
// took the expired lease, is refused naming them and listed, not dropped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, apiLogin, api, tessera } from './harness.mjs';
import { openViewer, framesByPosition, imageToScreen, drawPolygon, queuedNotice, eventually } from './annotate_helpers.mjs';

const kLeaseSeconds = 6;
let browser;
let admin;
let peer; // a second editor, who wants the image next
let images;
before(async () => {
  browser = await launchBrowser();
  admin = await apiLogin();
  const name = `leasepeer${process.pid}`;
  const out = tessera('user', 'add', name, '--generate', '--role', 'editor');
  peer = await apiLogin(name, /password: (\S+)/.exec(out)[1]);
  images = (await framesByPosition(admin.token))[2]; // frames 3 to 7: no other spec locks them
});
after(async () => { await browser?.close(); });

const lease = async (imageId) => (await api(admin.token, 'GET', `/api/v1/images/${imageId}/lock`)).body;

// The admin's viewer of the image with the short lease, holding it after a first click of the point tool.
async function editing(imageId) {
  const page = await openViewer(browser, admin, imageId, { 'tessera.lease_seconds': kLeaseSeconds });
  page.renewals = [];
  page.on('request', (r) => { if (r.url().endsWith(`/images/${imageId}/lock/renew`)) page.renewals.push(Date.now()); });
  await page.click('[data-testid=tool-points]');
  await page.mouse.click(...(await imageToScreen(page, 128, 128)));
  await page.waitForSelector('[data-testid=lock-status][data-state=mine]');
  const held = await lease(imageId);
  assert.equal(held.holder, process.env.TESSERA_ADMIN);
  const length = (Date.parse(held.expires_at) - Date.parse(held.acquired_at)) / 1000;
  assert.ok(Math.abs(length - kLeaseSeconds) < 0.5, `the lease asked for lasts ${length} s`);
  return { page, held };
}

// The peer asks for the image's lease: 201 when it was free.
async function peerTakes(imageId) {
  const taken = await api(peer.token, 'POST', `/api/v1/images/${imageId}/lock`, { ttl_seconds: 30 });
  if (taken.status === 201) assert.equal((await api(peer.token, 'DELETE', `/api/v1/images/${imageId}/lock`)).status, 200);
  return taken;
}

test('while the user edits, the lease is renewed before it expires and its expiry moves forward', async () => {
  const image = images[3];
  const { page, held } = await editing(image.id);
  const firstExpiry = Date.parse(held.expires_at);
  // Two lease lengths later the first expiry is long past, yet the user still holds the image.
  await new Promise((r) => setTimeout(r, 2 * kLeaseSeconds * 1000));
  const now = await lease(image.id);
  assert.equal(now.locked, true);
  assert.equal(now.holder_id, held.holder_id);
  assert.ok(Date.parse(now.expires_at) > firstExpiry + kLeaseSeconds * 1000,
    `expiry ${held.expires_at} -> ${now.expires_at} after ${2 * kLeaseSeconds} s`);
  assert.ok(Date.parse(now.expires_at) > Date.now(), `the lease ends ${now.expires_at}, in the future`);
  // Renewed every third of the lease: 4 to 6 renewals in two lease lengths.
  assert.ok(page.renewals.length >= 4, `${page.renewals.length} renewals in ${2 * kLeaseSeconds} s`);
  assert.equal((await peerTakes(image.id)).status, 409);
  assert.match(await page.locator('[data-testid=lock-status]').textContent(), /You hold the lock/);
  await page.close({ runBeforeUnload: true });
  await eventually(async () => (await lease(image.id)).locked === false, 'the lease released with the tab');
  await page.context().close();
});

test('closing the tab releases the lease, so a colleague takes the image at once', async () => {
  const image = images[4];
  const { page } = await editing(image.id);
  const closed = Date.now();
  await page.close({ runBeforeUnload: true });
  await eventually(async () => (await lease(image.id)).locked === false, 'the lease released by the closed tab', 2000);
  const taken = await peerTakes(image.id);
  assert.equal(taken.status, 201, `the colleague's lease ${Date.now() - closed} ms after the close: ${JSON.stringify(taken.body)}`);
  await page.context().close();
});

test('navigating away to another page releases the lease', async () => {
  const image = images[5];
  const { page } = await editing(image.id);
  await page.goto('about:blank');
  await eventually(async () => (await lease(image.id)).locked === false, 'the lease released on leaving the app', 2000);
  assert.equal((await peerTakes(image.id)).status, 201);
  await page.context().close();
});

test('a tab that crashed (no release sent) keeps its lease until it expires on its own after the lease length', async () => {
  const image = images[6];
  const { page } = await editing(image.id);
  const context = page.context();
  // The renderer dies as in a crash or a killed browser: no pagehide, no release, no more renewals. (Network
  // emulation is no way to stop the release: Chromium sent the closing tab's keepalive request regardless,
  // once in four runs.)
  const cdp = await context.newCDPSession(page);
  const crash = page.waitForEvent('crash', { timeout: 10000 });
  void cdp.send('Page.crash').catch(() => undefined); // a crashed page never answers
  await crash;
  const crashed = Date.now();
  const left = await lease(image.id);
  assert.equal(left.locked, true, 'no release was sent');
  assert.equal((await peerTakes(image.id)).status, 409);
  // Free once its last renewal's lease has run out: at most one lease length after the crash.
  await eventually(async () => (await lease(image.id)).locked === false, 'the lease to expire', (kLeaseSeconds + 2) * 1000);
  const freeAfter = Date.now() - crashed;
  assert.ok(freeAfter <= (kLeaseSeconds + 1) * 1000, `free ${freeAfter} ms after the crash`);
  assert.equal((await peerTakes(image.id)).status, 201);
  console.log(`lease of ${kLeaseSeconds} s: free ${freeAfter} ms after the tab crashed`);
  await context.close();
});

test('an edit queued offline while the lease lapsed and a colleague took the image is refused on replay, naming them, and listed', async () => {
  const image = images[7];
  const { page } = await editing(image.id);
  const context = page.context();
  await context.setOffline(true);
  await page.click('[data-testid=tool-polygon]');
  await drawPolygon(page, [[20, 20], [60, 20], [40, 60]]);
  await queuedNotice(page);
  // The renewals cannot reach the server either: the lease lapses and the colleague takes the image.
  await eventually(async () => (await lease(image.id)).locked === false, 'the unrenewed lease to expire', (kLeaseSeconds + 2) * 1000);
  const name = peer.user.name;
  assert.equal((await api(peer.token, 'POST', `/api/v1/images/${image.id}/lock`, { ttl_seconds: 60 })).status, 201);
  try {
    await context.setOffline(false);
    await page.waitForSelector('#banner .banner-refused li', { timeout: 15000 });
    assert.match(await page.locator('#banner .banner-refused').textContent(), new RegExp(`polygon on image ${image.id}.*locked by '?${name}'?`));
    assert.match(await page.locator('[data-testid=annotate-status]').textContent(), new RegExp(`locked by ${name}`));
    await page.waitForSelector('[data-testid=lock-status][data-state=other]');
    // Nothing stored (the annotate spec's propagation may have left masks on this frame: no polygon).
    const kinds = (await api(admin.token, 'GET', `/api/v1/images/${image.id}/annotations`)).body.annotations.map((a) => a.kind);
    assert.ok(!kinds.includes('polygon'), `annotations of the image: ${kinds}`);
  } finally {
    await api(peer.token, 'DELETE', `/api/v1/images/${image.id}/lock`);
  }
  await context.close();
});
