// A real browser on the classic Notebook UI (Debian's jupyter-notebook 6.4, headless Debian
// chromium driven by playwright-core) opens tutorial notebook 01 and runs Cell > Run All, as a
// reader of the tutorial would. Every code cell must run; only the cells tagged raises-exception
// show an error; the inline device reports render as HTML tables (and SVG timelines).
// Screenshot: artifacts/notebook-01-run-all.png.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Page } from 'playwright-core';
import { sleep, tutorial } from './e2e-helpers';
import { KERNEL_IDLE, useNotebookBrowser, waitIdle } from './notebook-browser';
import { ROOT } from './notebook-server';

const NOTEBOOK = '01-cpu-gpu-switching.ipynb';
const SCREENSHOT = path.join(ROOT, 'artifacts', 'notebook-01-run-all.png');
/** The whole notebook on lavapipe and two shared cores, with a cold shader cache. */
const RUN_ALL_TIMEOUT_MS = 300_000;

const browser = useNotebookBrowser('notebook-ui-runall');

interface CellState {
  index: number;
  tags: string[];
  prompt: number | string | null;
  errors: number;
  errorText: string;
  reports: number;
  source: string;
}

/** What the notebook's code cells show now, read from the page's Jupyter.notebook model and DOM. */
function cellStates(page: Page): Promise<CellState[]> {
  return page.evaluate(`Jupyter.notebook.get_cells().map((cell, index) => ({ cell, index }))
    .filter(({ cell }) => cell.cell_type === 'code')
    .map(({ cell, index }) => ({
      index,
      tags: (cell.metadata && Array.isArray(cell.metadata.tags)) ? cell.metadata.tags : [],
      prompt: cell.input_prompt_number === undefined ? null : cell.input_prompt_number,
      errors: cell.element.find('.output_error').length,
      errorText: cell.element.find('.output_error').text().slice(0, 2000),
      reports: cell.output_area.outputs.filter((o) => o.output_type === 'display_data' && o.metadata && o.metadata.tsgpu !== undefined).length,
      source: cell.get_text().split('\\n')[0].slice(0, 70),
    }))`) as Promise<CellState[]>;
}

async function kernelIdle(page: Page): Promise<boolean> {
  return (await page.locator(KERNEL_IDLE).count()) === 1;
}

test(`classic Notebook: Cell > Run All on ${NOTEBOOK} runs every cell, errors only where tagged, reports rendered`,
  { timeout: RUN_ALL_TIMEOUT_MS + 120_000 }, async (t) => {
    const { server, open, assertNoConsoleErrors, shutdown } = await browser.start({ width: 1280, height: 1000 });
    fs.copyFileSync(tutorial(NOTEBOOK), path.join(server.root, NOTEBOOK));
    // The notebook's kernelspec metadata starts tsgpu.
    const page = await open(`notebooks/${NOTEBOOK}`);
    await waitIdle(page, 60_000);
    assert.match((await page.locator('.kernel_indicator_name').innerText()).trim(), /tsgpu/, 'the notebook runs the tsgpu kernel');
    const initial = await cellStates(page);
    assert.ok(initial.length > 0 && initial.some((cell) => cell.tags.includes('raises-exception')), 'the notebook has tagged cells');

    // Cell > Run All.
    const started = performance.now();
    await page.click('#celllink');
    await page.locator('#run_all_cells a').click();

    // Done when no cell is queued or running ("In [*]") and the kernel is idle, twice in a row.
    let states: CellState[] = [];
    let settled = 0;
    const deadline = Date.now() + RUN_ALL_TIMEOUT_MS;
    while (settled < 2) {
      assert.ok(Date.now() < deadline, `Run All did not finish within ${RUN_ALL_TIMEOUT_MS / 1000} s: prompts ${JSON.stringify((await cellStates(page)).map((cell) => cell.prompt))}`);
      await sleep(500);
      states = await cellStates(page);
      const busy = states.some((cell) => cell.prompt === '*') || !states.some((cell) => typeof cell.prompt === 'number') || !(await kernelIdle(page));
      settled = busy ? 0 : settled + 1;
    }
    const seconds = (performance.now() - started) / 1000;

    const problems: string[] = [];
    states.forEach((cell, position) => {
      const where = `code cell ${position + 1} (notebook cell ${cell.index}) ${JSON.stringify(cell.source)}`;
      if (cell.prompt !== position + 1) problems.push(`${where}: prompt In [${String(cell.prompt)}], expected In [${position + 1}]`);
      const tagged = cell.tags.includes('raises-exception');
      if (tagged && cell.errors === 0) problems.push(`${where}: tagged raises-exception but shows no error`);
      if (!tagged && cell.errors > 0) problems.push(`${where}: unexpected error:\n${cell.errorText}`);
    });
    assert.deepEqual(problems, [], `${NOTEBOOK} after Run All in the classic Notebook`);

    const reports = states.reduce((sum, cell) => sum + cell.reports, 0);
    const tables = await page.locator('.output_area table.tsgpu-report-table').count();
    const timelines = await page.locator('.output_area img.tsgpu-timeline').count();
    assert.ok(reports > 0, 'no report output (display_data with metadata.tsgpu)');
    assert.equal(tables, reports, 'every report renders its HTML table');
    assert.ok(timelines > 0, 'no timeline image rendered (cells with transfers have one)');

    // The screenshot shows the busiest cell with a timeline (in notebook 01, the training loop:
    // its progress bar, its result and its report), scrolled to the top of the page.
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.setViewportSize({ width: 1280, height: 1400 });
    await page.evaluate(`(() => {
      const cells = [...document.querySelectorAll('.cell.code_cell')].filter((c) => c.querySelector('img.tsgpu-timeline'));
      const outputs = (c) => c.querySelectorAll('.output_area').length;
      const cell = cells.reduce((best, c) => (best === null || outputs(c) > outputs(best) ? c : best), null);
      const site = document.getElementById('site');
      if (cell && site) site.scrollTop += cell.getBoundingClientRect().top - site.getBoundingClientRect().top - 8;
    })()`);
    await page.screenshot({ path: SCREENSHOT });
    assert.ok(fs.statSync(SCREENSHOT).size > 10_000, 'a screenshot was written');

    assertNoConsoleErrors();
    t.diagnostic(`Run All: ${states.length} code cells in ${seconds.toFixed(1)} s, ${reports} reports, ${tables} tables, ${timelines} timelines`);

    assert.deepEqual(await shutdown(page), [], 'the server shut its kernel down');
  });
