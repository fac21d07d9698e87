// Shared helpers of the web specs (tests/web/*.spec.mjs), run by tests/web/run.sh under `node --test`.
// run.sh has started a real `tessera serve` on a free loopback port over a fresh workspace and exported:
//   TESSERA_URL (http://127.0.0.1:PORT), TESSERA_ADMIN / TESSERA_PASSWORD (owner of project 1),
//   TESSERA_BIN, TESSERA_DIR (the workspace), TESSERA_SCREENSHOTS (folder for PNGs),
//   TESSERA_SERVER_PIDFILE and TESSERA_SERVE_ARGS (JSON argv) so a spec may stop and restart the server.
import { spawn, execFileSync } from 'node:child_process';
import { before, after } from 'node:test';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const requireFromWeb = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = requireFromWeb('playwright-core');

function need(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the specs through tests/web/run.sh`);
  return value;
}

export const env = {
  get url() { return need('TESSERA_URL'); },
  get admin() { return need('TESSERA_ADMIN'); },
  get password() { return need('TESSERA_PASSWORD'); },
  get bin() { return need('TESSERA_BIN'); },
  get workspace() { return need('TESSERA_DIR'); },
  get screenshots() { return need('TESSERA_SCREENSHOTS'); },
};

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// One browser for a spec file, launched before its tests and closed after them; with login, an admin token
// from the API. Returns an object whose fields are filled by the time the tests run.
export function useBrowser({ login = false } = {}) {
  const shared = { browser: null, login: null };
  before(async () => {
    shared.browser = await launchBrowser();
    if (login) shared.login = await apiLogin();
  });
  after(async () => { await shared.browser?.close(); });
  return shared;
}

// A fresh browser context (its own localStorage) and page, console errors collected for the assertions.
export async function newPage(browser, viewport = { width: 1400, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.consoleErrors = [];
  page.on('console', (msg) => { if (msg.type() === 'error') page.consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => page.consoleErrors.push(String(err)));
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(env.screenshots, { recursive: true });
  const file = path.join(env.screenshots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

// Logs in through the login form and waits for the projects screen.
export async function loginThroughForm(page, name = env.admin, password = env.password) {
  await page.goto(`${env.url}/#/login`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.project-list li[data-project-id]');
}

// ---- the REST API from node (fixtures and checks), with the admin's token

export async function apiLogin(name = env.admin, password = env.password, ttlSeconds) {
  const res = await fetch(`${env.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, password, ...(ttlSeconds ? { ttl_seconds: ttlSeconds } : {}) }),
  });
  if (!res.ok) throw new Error(`login as ${name}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function api(token, method, apiPath, body, contentType = 'application/json') {
  const headers = { Authorization: `Bearer ${token}` };
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = contentType;
    payload = contentType === 'application/json' ? JSON.stringify(body) : body;
  }
  const res = await fetch(`${env.url}${apiPath}`, { method, headers, body: payload });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = text; }
  return { status: res.status, body: json };
}

// Opens a screen by its hash with a full page load (not a same-document hash change), so each spec starts
// from a freshly booted app.
let loads = 0;
export async function openScreen(page, hash) {
  await page.goto(`${env.url}/?load=${++loads}${hash}`);
}

// A new page signed in with login's token, on the screen hash (full load), once selector is there.
export async function signedInPage(browser, login, hash, selector) {
  const page = await newPage(browser);
  await signInWithToken(page, login);
  await openScreen(page, hash);
  if (selector) await page.waitForSelector(selector);
  return page;
}

// Puts the token in the page's localStorage (as the login screen would) so a spec can start on any screen.
export async function signInWithToken(page, login, projectId = 1) {
  await page.goto(`${env.url}/#/login`);
  await page.evaluate(([answer, project]) => {
    localStorage.setItem('tessera.token', answer.token);
    localStorage.setItem('tessera.user', JSON.stringify(answer.user));
    localStorage.setItem('tessera.expires_at', answer.expires_at);
    localStorage.setItem('tessera.project', String(project));
  }, [login, projectId]);
}

// A PNG made by `tessera synth` for the fixture, path relative to the fixture folder: data/images/... were imported
// before the server started, upload/images/... were not (new bytes for upload specs).
export function fixtureImage(relative) {
  return readFileSync(path.join(env.workspace, '..', relative));
}

// ---- stopping and restarting the server (the server-down spec)

function serverPid() {
  return Number(readFileSync(need('TESSERA_SERVER_PIDFILE'), 'utf8').trim());
}

async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function answers() {
  try {
    return (await fetch(`${env.url}/api/v1`)).ok;
  } catch {
    return false;
  }
}

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Stops the server and waits for its process to end: a server that has stopped listening may still answer
// on a browser's open keep-alive connection until it exits.
export async function stopServer() {
  const pid = serverPid();
  process.kill(pid, 'SIGTERM');
  try {
    await waitFor(async () => !isRunning(pid), 5000, 'the server to exit');
  } catch {
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => !isRunning(pid), 5000, 'the server to be killed');
  }
  await waitFor(async () => !(await answers()), 5000, 'the port to close');
}

// Starts the server again on the same port and workspace (run.sh stops it at the end through the pidfile).
export async function startServer() {
  const argv = JSON.parse(need('TESSERA_SERVE_ARGS'));
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore', env: process.env });
  child.unref();
  writeFileSync(need('TESSERA_SERVER_PIDFILE'), String(child.pid));
  await waitFor(answers, 15000, 'the server to start');
}

// Runs the tessera CLI on the spec's workspace.
export function tessera(...args) {
  return execFileSync(env.bin, args, { env: process.env, encoding: 'utf8' });
}
