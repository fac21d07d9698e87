// Browser half of scripts/bench_web.sh: opens the image browser of project 1 in headless Chromium RUNS
// times, each in a fresh context (empty browser cache, full page load), and reads the app's Performance API
// marks: tessera:first-tile (first thumbnail decoded) and tessera:interactive (first grid page rendered with
// its handlers), in ms from navigation start. On the first run it also drags the grid to its last row and
// times until that row's images are listed (the cursors walked from the first page to the last).
// Prints one JSON line: {"first_tile": [...], "interactive": [...], "to_last_row": ms}.
// Environment: TESSERA_URL, TESSERA_TOKEN, RUNS.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = createRequire(path.join(here, '../../web/package.json'))('playwright-core');

const url = process.env.TESSERA_URL;
const token = process.env.TESSERA_TOKEN;
const runs = Number(process.env.RUNS ?? 5);
if (!url || !token) throw new Error('bench_load: TESSERA_URL and TESSERA_TOKEN must be set');

const browser = await chromium.launch({
  executablePath: process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const result = { first_tile: [], interactive: [], to_last_row: null };
try {
  for (let run = 0; run < runs; ++run) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // The token is in place before the app boots, as for a returning user.
    await context.addInitScript((t) => {
      localStorage.setItem('tessera.token', t);
      localStorage.setItem('tessera.user', JSON.stringify({ id: 1, name: 'admin', display_name: '', created_at: '' }));
      localStorage.setItem('tessera.project', '1');
    }, token);
    const page = await context.newPage();
    await page.goto(`${url}/#/images`);
    await page.waitForFunction(() => performance.getEntriesByName('tessera:first-tile').length > 0
      && performance.getEntriesByName('tessera:interactive').length > 0, null, { timeout: 60000 });
    const marks = await page.evaluate(() => ({
      first: performance.getEntriesByName('tessera:first-tile')[0].startTime,
      interactive: performance.getEntriesByName('tessera:interactive')[0].startTime,
      total: Number(document.querySelector('.count-label')?.dataset.total ?? 0),
    }));
    if (marks.total <= 0) throw new Error('bench_load: the grid shows no image');
    result.first_tile.push(Math.round(marks.first * 10) / 10);
    result.interactive.push(Math.round(marks.interactive * 10) / 10);
    if (run === 0) {
      const start = Date.now();
      await page.evaluate(() => {
        const grid = document.querySelector('.image-grid');
        grid.scrollTop = grid.scrollHeight;
      });
      try {
        await page.waitForFunction((last) => document.querySelector(`.grid-cell[data-index="${last}"][data-image-id]`),
          marks.total - 1, { timeout: 120000, polling: 50 });
        result.to_last_row = Date.now() - start;
      } catch {
        result.to_last_row = 'over 120000 (stopped waiting)';  // a figure, not a failure of the benchmark
      }
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
