// A real browser on the classic Notebook UI (Debian's jupyter-notebook 6.4, headless Debian
// chromium driven by playwright-core): New → "TypeScript (tsgpu)", type a cell that moves a tensor
// to gpu:0, Shift+Enter, and see the inline device report (its table and its timeline, an image of its SVG) under
// the result. Screenshot: artifacts/notebook-report.png.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { useNotebookBrowser, waitIdle } from './notebook-browser';
import { ROOT } from './notebook-server';

const SCREENSHOT = path.join(ROOT, 'artifacts', 'notebook-report.png');
const CELL = "const x = tf.ones([256]); await x.to('gpu:0'); x.device";
/** lavapipe compiles shaders slowly on two shared cores. */
const CELL_TIMEOUT_MS = 90_000;

const browser = useNotebookBrowser('notebook-ui');

test('classic Notebook: a tsgpu cell that moves a tensor to gpu:0 shows the report table and timeline under its result',
  { timeout: 240_000 }, async () => {
    const { context, open, watch, assertNoConsoleErrors, shutdown } = await browser.start({ width: 1280, height: 900 });
    const dashboard = await open('tree');
    await dashboard.waitForSelector('#new-dropdown-button', { timeout: 30_000 });

    // New → our kernel; the notebook opens in a new tab.
    await dashboard.click('#new-dropdown-button');
    const entry = dashboard.locator('#kernel-tsgpu a');
    assert.match((await entry.innerText()).trim(), /tsgpu/, 'the New menu lists the tsgpu kernel');
    const [notebook] = await Promise.all([context.waitForEvent('page', { timeout: 30_000 }), entry.click()]);
    watch(notebook);
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
    assert.equal(await cell.locator('.output_area img.tsgpu-timeline').count(), 1, 'one timeline image');
    assert.equal(await cell.locator('.output_error').count(), 0, 'no error output');
    const table = await cell.locator('table.tsgpu-report-table').innerText();
    assert.match(table, /gpu:0/, `the table names gpu:0:\n${table}`);
    assert.match(table, /H2D/, `the table shows the host→GPU move:\n${table}`);
    const svgBox = await cell.locator('img.tsgpu-timeline').boundingBox();
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

    assertNoConsoleErrors();

    assert.deepEqual(await shutdown(notebook), [], 'the server shut its kernel down');
  });
