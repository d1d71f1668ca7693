// A notebook written for tslab (imports 'tslab', its display API, newDisplay(), top-level await,
// a class and interface, a deliberate type error) runs unchanged on tsgpu: through `tsgpu run`
// and through Debian's nbclient against the installed kernelspec.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI, ROOT, isolatedJupyter } from './notebook-server';

const NOTEBOOK = path.join(ROOT, 'test', 'fixtures', 'tslab-style', 'tslab-style.ipynb');

interface CellOutput { output_type: string; data?: Record<string, unknown>; ename?: string; evalue?: string; text?: string | string[] }
interface ExecutedCell { cell_type: string; outputs?: CellOutput[]; execution_count?: number | null }

function readCells(file: string): ExecutedCell[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { cells: ExecutedCell[] }).cells.filter((cell) => cell.cell_type === 'code');
}

function text(value: unknown): string {
  return Array.isArray(value) ? value.join('') : String(value ?? '');
}

/** What a tslab-style notebook must show when executed, whichever client ran it. */
function checkOutputs(cells: ExecutedCell[]): void {
  const [html, jpeg, bar, vector, awaited, typeError, flags, loose] = cells.map((cell) => cell.outputs ?? []);
  assert.ok(html?.some((output) => text(output.data?.['text/html']).includes('id="tslab-html"')), 'display.html shows the HTML');
  assert.ok(html?.some((output) => text(output.data?.['text/markdown']) === '**bold** markdown'), 'display.markdown shows markdown');
  const image = readFileSync(path.join(path.dirname(NOTEBOOK), 'pixel.jpg')).toString('base64');
  assert.equal(text(jpeg?.find((output) => output.data?.['image/jpeg'])?.data?.['image/jpeg']).replace(/\n/g, ''), image, 'display.jpeg carries the file');
  const barTexts = (bar ?? []).filter((output) => output.output_type === 'display_data').map((output) => text(output.data?.['text/plain']));
  assert.deepEqual(barTexts, ['step 5/5'], 'newDisplay() replaced its output in place: one output, the last value');
  assert.ok(vector?.some((output) => text(output.data?.['text/plain']) === '5'), 'the class cell shows 5');
  assert.ok(awaited?.some((output) => text(output.data?.['text/plain']) === '42'), 'top-level await shows 42');
  const error = typeError?.find((output) => output.output_type === 'error');
  assert.equal(error?.ename, 'TSError');
  assert.match(error?.evalue ?? '', /^2:7 - error TS2322: Type 'string' is not assignable to type 'number'\. \(and 1 more\)$/);
  assert.ok(flags?.some((output) => text(output.data?.['text/plain']) === "[ true, false, 'string' ]"), 'isNode, isBrowser, versions');
  assert.ok(loose?.some((output) => text(output.data?.['text/plain']) === '2'), `code checked with the non-strict defaults runs: ${JSON.stringify(loose)}`);
}

describe('tslab notebooks run unchanged', () => {
  const { tmp, env } = isolatedJupyter('tslab');
  after(() => rmSync(tmp, { recursive: true, force: true }));
  // A folder of its own, as a tslab user's notebook has: inside this repository the project's own
  // (strict) tsconfig.json would set the checker's options.
  const notebook = path.join(tmp, 'tslab-style', path.basename(NOTEBOOK));
  cpSync(path.dirname(NOTEBOOK), path.dirname(notebook), { recursive: true });

  test('through tsgpu run: exit 0 and the outputs tslab would show', () => {
    const out = path.join(tmp, 'tslab-run.ipynb');
    const run = spawnSync(process.execPath, [CLI, 'run', notebook, '-o', out], { encoding: 'utf8', timeout: 180_000 });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    checkOutputs(readCells(out));
  });

  test('through nbclient (jupyter nbconvert --execute) with the installed kernelspec', () => {
    const out = path.join(tmp, 'tslab-nbconvert.ipynb');
    execFileSync('/usr/bin/jupyter', ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=180',
      '--ExecutePreprocessor.kernel_name=tsgpu', '--output', out, notebook], { env, stdio: 'pipe', timeout: 300_000 });
    checkOutputs(readCells(out));
  });
});
