// Bad conditions: a token that stops working sends the user to login with the message; a server that goes
// away shows the retry banner, an edit made meanwhile waits (counted) and reaches the server when it is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, signedInPage, apiLogin, api, screenshot, stopServer, startServer } from './harness.mjs';

const shared = useBrowser();

// The projects screen, signed in with a token of its own (these tests end or outlive tokens).
async function projectsPage() {
  const login = await apiLogin();
  const page = await signedInPage(shared.browser, login, '#/projects', '.project-list li[data-project-id]');
  return { login, page };
}

// Stops the server, asks the page to create project name (queued, as the server is down), checks the
// banner counts it, runs whileDown, and starts the server again whatever happened.
async function createProjectWhileDown(page, name, whileDown = async () => {}) {
  await stopServer();
  try {
    await page.fill('input[aria-label="project name"]', name);
    await page.click('button:has-text("Create project")');
    await page.waitForSelector('#banner .banner-offline', { timeout: 3000 });
    await page.waitForSelector('#banner .banner-pending[data-pending="1"]', { timeout: 3000 });
    await whileDown();
  } finally {
    await startServer();
  }
}

test('an expired token sends the user back to login with "session expired"', async () => {
  const { login, page } = await projectsPage();
  // The token ends server-side (as at its expiry): the next request the page makes answers 401.
  const revoked = await api(login.token, 'POST', '/api/v1/auth/logout');
  assert.equal(revoked.status, 204);
  // Open another screen (its requests get 401). Not a click on the nav link: a request already in flight may
  // have ended the session and re-rendered the top bar under the pointer.
  await page.evaluate(() => { location.hash = '#/images'; });
  await page.waitForSelector('.login-notice');
  assert.match(await page.locator('.login-notice').textContent(), /session expired/i);
  assert.match(page.url(), /#\/login/);
  assert.equal(await page.evaluate(() => localStorage.getItem('tessera.token')), null);
  await screenshot(page, 'login-session-expired');
  await page.context().close();
});

test('server down: a retry banner shows, an edit waits in the queue and is sent when the server is back', async () => {
  const { login, page } = await projectsPage();
  await createProjectWhileDown(page, 'made-while-down', async () => {
    assert.ok(await page.locator('#banner button:has-text("Retry now")').isVisible());
    // The queued edit is kept in localStorage: a reload of the page does not lose it.
    assert.match(await page.evaluate(() => localStorage.getItem('tessera.pending_writes')), /made-while-down/);
    await screenshot(page, 'server-down-banner');
  });
  await page.waitForSelector('#banner', { state: 'hidden', timeout: 5000 });
  const projects = await api(login.token, 'GET', '/api/v1/projects');
  assert.ok(projects.body.projects.some((p) => p.name === 'made-while-down'), JSON.stringify(projects.body));
  await page.waitForSelector('.project-list li:has-text("made-while-down")');
  await page.context().close();
});

test('an edit the server refuses on replay is listed in the banner, not dropped', async () => {
  const { page } = await projectsPage();
  // 'default' exists: replaying this creation gets 409.
  await createProjectWhileDown(page, 'default');
  await page.waitForSelector('#banner .banner-refused li');
  assert.match(await page.locator('#banner .banner-refused').textContent(), /create project 'default'.*(exists|taken|already)/i);
  await page.context().close();
});
