// `tsgpu run --device D` chooses the device a notebook starts on (`%device D` before its first
// cell). A notebook that chooses its own with `%device` moves on from there: the run says which
// cell does, where a user took "--device cpu" to mean everything ran on cpu while the notebook's
// first cell had put it on gpu:0.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { describeRun, readNotebookJson, runCommand, stripAnsi } from './e2e-helpers';
import { CLI } from './notebook-server';

function notebook(sources: string[]): object {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tsgpu', display_name: 'TypeScript (tsgpu)', language: 'typescript' } },
    cells: sources.map((source, index) => ({ id: `c${index}`, cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source })),
  };
}

/** The text a saved cell printed or returned. */
function textOf(cell: { outputs?: { text?: string | string[]; data?: Record<string, unknown> }[] } | undefined): string {
  return (cell?.outputs ?? []).map((output) => {
    const text = output.text ?? output.data?.['text/plain'] ?? '';
    return Array.isArray(text) ? text.join('') : String(text);
  }).join('');
}

test('tsgpu run --device cpu: cells run on cpu until the notebook\'s own %device, and the run names the cell that switches', { timeout: 180_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-run-device-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const input = path.join(dir, 'switching.ipynb');
  const out = path.join(dir, 'switching.out.ipynb');
  fs.writeFileSync(input, JSON.stringify(notebook(['tf.ones([1]).device', '%%device gpu:0\ntf.ones([1]).device', 'tf.ones([1]).device', 'const n = 1;\n%device gpu:0', 'tf.ones([1]).device'])));
  const result = await runCommand(process.execPath, [CLI, 'run', input, '-o', out, '--device', 'cpu'], { cwd: dir, timeoutMs: 150_000 });
  assert.equal(result.code, 0, describeRun(result));
  const cells = readNotebookJson(out).cells;
  assert.match(textOf(cells[0]), /'cpu'/, `the first cell runs on --device's device: ${textOf(cells[0])}`);
  // %%device is for its own cell: the next is back on --device's.
  assert.match(textOf(cells[1]), /'gpu:0'/, `the %%device cell: ${textOf(cells[1])}`);
  assert.match(textOf(cells[2]), /'cpu'/, `after a %%device cell, --device's device again: ${textOf(cells[2])}`);
  assert.match(textOf(cells[4]), /'gpu:0'/, `after the notebook's own %device, its device: ${textOf(cells[4])}`);
  assert.match(stripAnsi(result.stdout), /--device cpu holds until cell 4 \(%device gpu:0\), which chooses a device of its own/, describeRun(result));

  // A notebook that never switches gets no such note.
  const plain = path.join(dir, 'plain.ipynb');
  fs.writeFileSync(plain, JSON.stringify(notebook(['tf.ones([1]).device'])));
  const quiet = await runCommand(process.execPath, [CLI, 'run', plain, '--device', 'cpu'], { cwd: dir, timeoutMs: 150_000 });
  assert.equal(quiet.code, 0, describeRun(quiet));
  assert.doesNotMatch(stripAnsi(quiet.stdout), /holds until cell/, describeRun(quiet));
});
