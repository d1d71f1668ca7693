// `tsgpu run --timeout` never skips or misreports a cell (issue 15). The notebook: `let a = 1; a` /
// `while (true) {}` tagged raises-exception / `a + 1` / `a + 2`. Before, in 2 runs of 5 `a + 1`
// was saved with execution_count null and no output while the runner said "no unexpected errors"
// (the runner sent it while the timed-out cell was still stopping, and the kernel aborted it), and
// the timed-out cell never had its error saved. 20 runs: every cell executed in order with counts
// 1–4, the right outputs, and the interrupt error saved in cell 2. Untagged, the same timeout
// makes the run exit 1 and say which cell timed out.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { describeRun, type JsonCell, readNotebookJson, runCommand, stripAnsi } from './e2e-helpers';
import { CLI } from './notebook-server';

const RUNS = Number(process.env['RUNS'] ?? 20);
/** Seconds per cell: far above what the other cells take (the runner lets the compiler load before the first). */
const TIMEOUT_S = 1;

function notebook(tagged: boolean): object {
  const cell = (id: string, source: string, tags: string[] = []) => ({
    id, cell_type: 'code', metadata: tags.length > 0 ? { tags } : {}, execution_count: null, outputs: [], source,
  });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tsgpu', display_name: 'TypeScript (tsgpu)', language: 'typescript' } },
    cells: [
      cell('define', 'let a = 1; a'),
      cell('runaway', 'while (true) {}', tagged ? ['raises-exception'] : []),
      cell('after-1', 'a + 1'),
      cell('after-2', 'a + 2'),
    ],
  };
}

/** What a saved cell holds, in one line: its count and its outputs. */
function summary(cell: JsonCell | undefined): string {
  const outputs = (cell?.outputs ?? []).map((output) => output.output_type === 'error'
    ? `error ${String(output.ename)}`
    : output.output_type === 'execute_result' ? `result ${String(output.data?.['text/plain'])}` : output.output_type);
  return `[${String(cell?.execution_count ?? null)}] ${outputs.join(', ')}`;
}

async function runOnce(dir: string, tagged: boolean, index: number) {
  const input = path.join(dir, `timeout-${index}.ipynb`);
  const out = path.join(dir, `timeout-${index}.out.ipynb`);
  fs.writeFileSync(input, JSON.stringify(notebook(tagged), null, 1));
  const result = await runCommand(process.execPath, [CLI, 'run', input, '-o', out, '--timeout', String(TIMEOUT_S)], { cwd: dir, timeoutMs: 120_000 });
  assert.ok(fs.existsSync(out), `tsgpu run wrote no notebook: ${describeRun(result)}`);
  return { result, cells: readNotebookJson(out).cells };
}

test(`tsgpu run --timeout ${TIMEOUT_S}, ${RUNS} runs: the runaway cell (tagged raises-exception) saves its interrupt error, `
  + 'and every later cell runs in order with its count and output', { timeout: RUNS * 60_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-run-timeout-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const expected = ['[1] result 1', '[2] error Interrupted', '[3] result 2', '[4] result 3'];
  const wrong: string[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const { result, cells } = await runOnce(dir, true, run);
    const saved = cells.map(summary);
    if (result.code !== 0 || JSON.stringify(saved) !== JSON.stringify(expected)) {
      wrong.push(`run ${run}: exit ${result.code}, cells ${JSON.stringify(saved)}\n${describeRun(result, 1500)}`);
    }
  }
  t.diagnostic(`${RUNS - wrong.length}/${RUNS} runs saved ${JSON.stringify(expected)} and exited 0`);
  assert.deepEqual(wrong, []);
});

test(`tsgpu run --timeout ${TIMEOUT_S} with the runaway cell untagged: exit 1, "cell 2" named as timed out, its interrupt error saved`,
  { timeout: 120_000 }, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-run-timeout-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const { result, cells } = await runOnce(dir, false, 0);
    assert.equal(result.code, 1, describeRun(result));
    assert.match(stripAnsi(result.stderr), /error in cell 2: Timeout: timed out after 1 s and was interrupted/, describeRun(result));
    // As with any unexpected error, the run stops there (--allow-errors would go on).
    assert.deepEqual(cells.map(summary), ['[1] result 1', '[2] error Interrupted', '[null] ', '[null] ']);
  });
