// A real browser on the classic Notebook UI (Debian's jupyter-notebook 6.4, headless Debian
// chromium driven by playwright-core): New → "TypeScript (tsgpu)", type a cell that moves a tensor
// to gpu:0, Shift+Enter, and see the inline device report (its table and its SVG timeline) under
// the result. Screenshot: artifacts/notebook-report.png.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { CLI, isolatedJupyter, NotebookServer, PYTHON, ROOT, startNotebook, stopNotebook } from './notebook-server';

const CHROMIUM = '/usr/bin/chromium';
// Flags from /work/shared/testing.md: a headless Chromium that talks to nothing but the page.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = path.join(ROOT, 'artifacts', 'notebook-report.png');
const CELL = "const x = tf.ones([256]); await x.to('gpu:0'); x.device";
/** lavapipe compiles shaders slowly on two shared cores. */
const CELL_TIMEOUT_MS = 90_000;

let tmp = '';
let server: NotebookServer | undefined;
let context: BrowserContext | undefined;
let userDataDir = '';
const consoleErrors: string[] = [];

before(() => {
  // Fail (never skip) when the browser or the server is missing.
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (scripts/install-system-deps.sh)`);
  assert.ok(fs.existsSync(PYTHON), `${PYTHON} is missing: run scripts/install-system-deps.sh`);
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
});

after(async () => {
  if (context !== undefined) await context.close().catch(() => undefined);
  if (userDataDir !== '') fs.rmSync(userDataDir, { recursive: true, force: true });
  if (server !== undefined) await stopNotebook(server);
  if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
});

async function waitIdle(page: Page, timeout: number): Promise<void> {
  await page.waitForSelector('#kernel_indicator_icon.kernel_idle_icon', { timeout });
}

test('classic Notebook: a tsgpu cell that moves a tensor to gpu:0 shows the report table and timeline under its result',
  { timeout: 240_000 }, async () => {
    const jupyter = isolatedJupyter();
    tmp = jupyter.tmp;
    server = await startNotebook(jupyter.tmp, jupyter.env);
    const { url, token } = server;

    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 }, timeout: 60_000,
    });
    const dashboard = context.pages()[0] ?? await context.newPage();
    dashboard.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
    // The ?token= login sets the auth cookie for the notebook page too.
    await dashboard.goto(`${url}tree?token=${token}`, { waitUntil: 'domcontentloaded', timeout: 30_000 });
    await dashboard.waitForSelector('#new-dropdown-button', { timeout: 30_000 });

    // New → our kernel; the notebook opens in a new tab.
    await dashboard.click('#new-dropdown-button');
    const entry = dashboard.locator('#kernel-tsgpu a');
    assert.match((await entry.innerText()).trim(), /tsgpu/, 'the New menu lists the tsgpu kernel');
    const [notebook] = await Promise.all([context.waitForEvent('page', { timeout: 30_000 }), entry.click()]);
    notebook.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
    await notebook.waitForLoadState('domcontentloaded');
    await waitIdle(notebook, 60_000);
    assert.match((await notebook.locator('.kernel_indicator_name').innerText()).trim(), /tsgpu/, 'the notebook runs the tsgpu kernel');

    // Type the cell and run it with Shift+Enter.
    await notebook.locator('.cell.code_cell .CodeMirror').first().click();
    await notebook.keyboard.type(CELL);
    const typed = await notebook.evaluate('Jupyter.notebook.get_cell(0).get_text()');
    assert.equal(typed, CELL, 'the editor holds exactly what was typed (no auto-closed brackets)');
    await notebook.keyboard.press('Shift+Enter');

    const cell = notebook.locator('.cell.code_cell').first();
    await cell.locator('table.tsgpu-report-table').waitFor({ timeout: CELL_TIMEOUT_MS });
    await waitIdle(notebook, CELL_TIMEOUT_MS);

    const prompt = (await cell.locator('.input_prompt').innerText()).replace(/\s+/g, ' ').trim();
    assert.equal(prompt, 'In [1]:', 'the cell ran as In [1]');
    const result = (await cell.locator('.output_execute_result, .output_result').first().innerText()).trim();
    assert.equal(result, "'gpu:0'", 'the result is the tensor\'s device');
    assert.equal(await cell.locator('.output_area table.tsgpu-report-table').count(), 1, 'one report table');
    assert.equal(await cell.locator('.output_area svg.tsgpu-timeline').count(), 1, 'one SVG timeline');
    assert.equal(await cell.locator('.output_error').count(), 0, 'no error output');
    const table = await cell.locator('table.tsgpu-report-table').innerText();
    assert.match(table, /gpu:0/, `the table names gpu:0:\n${table}`);
    assert.match(table, /H2D/, `the table shows the host→GPU move:\n${table}`);
    const svgBox = await cell.locator('svg.tsgpu-timeline').boundingBox();
    assert.ok(svgBox !== null && svgBox.width > 0 && svgBox.height > 0, `the timeline is drawn: ${JSON.stringify(svgBox)}`);

    // The result, then the report after it.
    const outputs = await cell.locator('.output_area').allInnerTexts();
    const resultAt = outputs.findIndex((text) => text.includes("'gpu:0'"));
    const reportAt = outputs.findIndex((text) => text.includes('H2D'));
    assert.ok(resultAt >= 0 && reportAt > resultAt, `the report comes after the result: ${JSON.stringify(outputs)}`);

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await cell.scrollIntoViewIfNeeded();
    await notebook.screenshot({ path: SCREENSHOT });
    assert.ok(fs.statSync(SCREENSHOT).size > 10_000, 'a screenshot was written');

    // Known noise on Debian's notebook 6.4: the ipywidgets nbextension is not installed.
    const relevant = consoleErrors.filter((text) => !/favicon|Failed to load resource|nbextensions\/widgets/.test(text));
    assert.deepEqual(relevant, [], 'no errors in the browser console');

    await notebook.evaluate('Jupyter.notebook.kernel.kill()');
    await context.close();
    context = undefined;
    const leftovers = await stopNotebook(server);
    server = undefined;
    assert.deepEqual(leftovers, [], 'the server shut its kernel down');
  });
