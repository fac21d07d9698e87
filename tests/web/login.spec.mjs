// Logging in through the form, a wrong password, and the projects and members screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, env, newPage, loginThroughForm, screenshot } from './harness.mjs';

const shared = useBrowser();

test('a wrong password is refused on the form and the user stays on login', async () => {
  const page = await newPage(shared.browser);
  await page.goto(`${env.url}/#/login`);
  await page.fill('input[name=name]', env.admin);
  await page.fill('input[name=password]', 'not the password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.form-error:has-text("Wrong name or password")');
  assert.equal(await page.evaluate(() => localStorage.getItem('tessera.token')), null);
  await screenshot(page, 'login-wrong-password');
  await page.context().close();
});

test('logging in shows the projects and the members of the project', async () => {
  const page = await newPage(shared.browser);
  await loginThroughForm(page);
  const projects = await page.locator('.project-list li[data-project-id]').allTextContents();
  assert.ok(projects.some((t) => t.includes('default') && t.includes('owner')), `projects listed: ${projects}`);
  await page.waitForSelector('.members-table tbody tr');
  const members = await page.locator('.members-table tbody tr').allTextContents();
  assert.ok(members.some((t) => t.includes(env.admin)), `members listed: ${members}`);
  await screenshot(page, 'projects');
  assert.deepEqual(page.consoleErrors, []);
  await page.context().close();
});

test('a new project can be created from the projects screen and becomes the current one', async () => {
  const page = await newPage(shared.browser);
  await loginThroughForm(page);
  await page.fill('input[aria-label="project name"]', 'cruise-7');
  await page.fill('input[aria-label="project description"]', 'plankton, station 1-40');
  await page.click('button:has-text("Create project")');
  await page.waitForSelector('.project-list li[data-project-id]:has-text("cruise-7")');
  const current = await page.evaluate(() => localStorage.getItem('tessera.project'));
  const id = await page.locator('.project-list li:has-text("cruise-7")').getAttribute('data-project-id');
  assert.equal(current, id);
  await page.context().close();
});
