// What JupyterLab and VS Code users see: the tutorial notebooks, executed by `tsgpu run`, rendered
// in headless Chromium by JupyterLab's own rendermime code (default renderers, sanitizer, trust
// rules, Vega 5 extension) under its light and dark themes, trusted and untrusted, and as a VS
// Code webview under VS Code's theme variables. For every report: its table cells and hints are
// in the rendered page, its timeline image has a size, its text has 4.5:1 contrast (computed
// styles); every Vega-Lite chart renders to SVG with one mark per data point (the training chart:
// one point per epoch). Screenshots go to artifacts/rendering/ (ignored by git, kept by CI).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../clients/notebook-browser';
import { bundleRingPage } from './bundle';

const ROOT = path.join(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'kernel', 'cli', 'main.js');
export const SCREENSHOTS = path.join(ROOT, 'artifacts', 'rendering');
const NOTEBOOKS = ['01-cpu-gpu-switching', '02-transfer-cost'];
const MODES = [
  { mode: 'light', trusted: true }, { mode: 'light', trusted: false },
  { mode: 'dark', trusted: true }, { mode: 'dark', trusted: false },
  { mode: 'vscode-light', trusted: true }, { mode: 'vscode-dark', trusted: true },
] as const;
const VEGALITE = 'application/vnd.vegalite.v5+json';
const MIN_CONTRAST = 4.5;

interface Output { data: Record<string, unknown>; metadata: Record<string, unknown>; label: string }
interface View { mark: string | { type: string; point?: boolean }; data: { values: unknown[] } }

/** Every output with a MIME bundle (display_data, execute_result), labelled by cell. */
function outputsOf(notebookFile: string): Output[] {
  const notebook = JSON.parse(fs.readFileSync(notebookFile, 'utf8')) as { cells: { cell_type: string; outputs?: { data?: Record<string, unknown>; metadata?: Record<string, unknown> }[] }[] };
  return notebook.cells.flatMap((cell, index) => (cell.outputs ?? []).filter((output) => output.data !== undefined)
    .map((output) => ({ data: output.data!, metadata: output.metadata ?? {}, label: `cell ${index}` })));
}

const isReport = (output: Output): boolean => output.metadata['tsgpu'] !== undefined;
const joined = (value: unknown): string => (Array.isArray(value) ? value.join('') : String(value));

function viewsOf(spec: unknown): View[] {
  const record = spec as { hconcat?: View[] };
  return record.hconcat ?? [spec as View];
}

const markOf = (view: View): string => (typeof view.mark === 'string' ? view.mark : view.mark.type);

/** Calls one of the page's ring functions (page/ring-page.mts) with JSON arguments. */
function call<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(`window.ring.${name}(...${JSON.stringify(args)})`) as Promise<T>;
}

interface ReportFound {
  cells: string[]; expectedCells: string[]; text: string; expectedText: string;
  timeline: { width: number; height: number; loaded: boolean } | null;
}
interface Contrast { text: string; ratio: number; color: string; background: string }

describe('what JupyterLab and VS Code users see', () => {
  let context: BrowserContext | undefined;
  let work = '';
  let pageUrl = '';
  const outputs = new Map<string, Output[]>();

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (scripts/install-system-deps.sh)`);
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-rendering-'));
    pageUrl = `file://${await bundleRingPage(path.join(work, 'page'))}`;
    for (const name of NOTEBOOKS) {
      const executed = path.join(work, `${name}.ipynb`);
      await promisify(execFile)(process.execPath, [CLI, 'run', path.join(ROOT, 'notebooks', `${name}.ipynb`), '-o', executed],
        { cwd: path.join(ROOT, 'notebooks'), timeout: 300_000, maxBuffer: 64 << 20 });
      outputs.set(name, outputsOf(executed));
    }
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1100, height: 900 }, timeout: 60_000,
    });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    if (work !== '') fs.rmSync(work, { recursive: true, force: true });
  });

  async function open(): Promise<{ page: Page; errors: string[] }> {
    const page = await context!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await page.goto(pageUrl, { waitUntil: 'load' });
    return { page, errors };
  }

  test("JupyterLab's sanitizer keeps every report's HTML whole: elements, attributes, inline styles, text", async () => {
    const { page } = await open();
    try {
      for (const name of NOTEBOOKS) {
        for (const output of outputs.get(name)!.filter(isReport)) {
          const changes = await call<string[]>(page, 'sanitizerChanges', joined(output.data['text/html']));
          assert.deepEqual(changes, [], `${name} ${output.label}: the sanitizer changed the report`);
        }
      }
    } finally {
      await page.close();
    }
  });

  for (const name of NOTEBOOKS) {
    for (const { mode, trusted } of MODES) {
      const label = `${name}-${mode}${trusted ? '' : '-untrusted'}`;
      test(`${name} in ${mode}${trusted ? '' : ', untrusted'}: report tables, hints and timelines rendered and legible, charts drawn point by point`, async () => {
        const all = outputs.get(name)!;
        const { page, errors } = await open();
        try {
          const chosen = await call<string[]>(page, 'render', all, mode, trusted);
          await page.screenshot({ path: path.join(SCREENSHOTS, `${label}.png`), fullPage: true });

          // Reports: every table cell and hint of the kernel's HTML is in the rendered page, with the same text.
          const reports = all.map((output, index) => ({ output, index })).filter(({ output }) => isReport(output));
          assert.ok(reports.length > 0, 'the notebook has reports');
          for (const { output, index } of reports) {
            assert.equal(chosen[index], 'text/html', `${output.label}: the report renders as HTML`);
            const found = await call<ReportFound>(page, 'reportFound', index, joined(output.data['text/html']));
            assert.deepEqual(found.cells, found.expectedCells, `${output.label}: the report's table cells`);
            for (const hint of (output.metadata['tsgpu'] as { hints: string[] }).hints) assert.ok(found.text.includes(hint), `${output.label}: hint "${hint}" is on the page`);
            assert.equal(found.text.trim(), found.expectedText.trim(), `${output.label}: the page shows the report's text, nothing stripped, nothing left loose`);
            if (joined(output.data['text/html']).includes('tsgpu-timeline')) {
              assert.ok(found.timeline !== null, `${output.label}: the timeline is on the page`);
              assert.ok(found.timeline.width > 0 && found.timeline.height > 0 && found.timeline.loaded, `${output.label}: the timeline image has a size: ${JSON.stringify(found.timeline)}`);
            }
          }

          // Contrast of all text the outputs show as HTML or text (charts are Vega's own theme).
          const measured = await call<Contrast[]>(page, 'contrasts', '.ring-output:not(:has(.vega-embed))');
          assert.ok(measured.length > 20, `text was measured: ${measured.length} elements`);
          const poor = measured.filter((entry) => entry.ratio < MIN_CONTRAST);
          assert.deepEqual(poor, [], `text under ${MIN_CONTRAST}:1 (lowest ${Math.min(...measured.map((m) => m.ratio)).toFixed(2)}:1)`);

          // Charts: Vega-Lite renders (as SVG) one symbol per point of a line or scatter view, one rect per bar.
          const charts = all.map((output, index) => ({ output, index })).filter(({ output }) => VEGALITE in output.data);
          assert.ok(charts.length >= 2, `the notebook draws charts: ${charts.length}`);
          for (const { output, index } of charts) {
            assert.equal(chosen[index], VEGALITE, `${output.label}: the chart renders through Vega-Lite`);
            const views = viewsOf(output.data[VEGALITE]);
            const points = views.filter((view) => markOf(view) !== 'bar').reduce((sum, view) => sum + view.data.values.length, 0);
            const bars = views.filter((view) => markOf(view) === 'bar').reduce((sum, view) => sum + view.data.values.length, 0);
            const drawn = await call<{ svg: number; symbols: number; rects: number }>(page, 'chartDrawn', index);
            assert.ok(drawn.svg > 0, `${output.label}: the chart is an SVG`);
            assert.equal(drawn.symbols, points, `${output.label}: one symbol per point`);
            assert.equal(drawn.rects, bars, `${output.label}: one bar per step`);
            // A training chart's points are its epochs: the bar's "N/N" says how many there were.
            const steps = /^\[[█░]+\] 100% [\w ]+? (\d+)\/(\d+) ·/.exec(joined(output.data['text/plain']));
            if (steps) {
              const series = new Set((views[0]!.data.values as { series: string }[]).map((row) => row.series)).size;
              assert.equal(views[0]!.data.values.length, Number(steps[2]) * series, `${output.label}: one point per epoch and series`);
            }
          }
          assert.deepEqual(errors, [], 'no errors on the page');
        } finally {
          await page.close();
        }
      });
    }
  }
});
