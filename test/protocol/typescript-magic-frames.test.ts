// Code a magic runs for its cell (%%time's body, %time's line) fails like the cell itself: its
// frames read `<cell N>` with N the cell's execution count, at the line and column the user sees
// in the cell, and the failing line is quoted with a caret.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executeReply, iopubOf } from '../support/exchange';
import { countOf, errorOf, runCell, useDeviceKernel } from '../support/devices';
import type { KernelClient } from '../support/kernel-client';
import type { ContentOf } from '../support/message-schema';
import { assertQuoted, assertTsError, cellFrames } from '../support/typescript';

/** Runs a failing cell; its error and execution count. */
async function failing(kernel: KernelClient, code: string): Promise<{ error: ContentOf<'error'>; count: number }> {
  const exchange = await runCell(kernel, code);
  assert.equal(executeReply(exchange).status, 'error', `${JSON.stringify(code)} should fail`);
  const errors = iopubOf(exchange, 'error');
  assert.equal(errors.length, 1, 'one error');
  return { error: errors[0]!, count: countOf(exchange) };
}

/** The traceback's frames name only `<cell N>` (never a sub-cell `<cell N.M>`), the first at line:column, with the line quoted. */
function assertCellFrame(error: ContentOf<'error'>, count: number, cell: string, where: { line: number; column: number }): void {
  const shown = error.traceback.join('\n');
  assert.ok(!/<cell \d+\.\d+>/.test(shown), `a sub-cell name is shown:\n${shown}`);
  const [top] = cellFrames(error.traceback);
  assert.deepEqual(top && { cell: top.cell, line: top.line, column: top.column }, { cell: count, ...where }, shown);
  const source = cell.split('\n')[where.line - 1]!;
  const quoted = error.traceback.indexOf(`${where.line} | ${source}`);
  assert.ok(quoted > 0, `the failing line is quoted:\n${shown}`);
  assertQuoted(error.traceback, quoted - 1, { ...where, source });
}

describe('frames of code a magic runs read <cell N>', () => {
  const kernel = useDeviceKernel();
  const body = "const before = 1;\nthrow new Error('from the body')";

  for (const magic of ['%%time', '%%timeit -n 1 -r 1', '%%device cpu', '%%profile']) {
    test(`${magic}: the body's error is made at <cell N>:3:7 (its \`new Error\`), line 3 quoted`, async () => {
      const cell = `${magic}\n${body}`;
      const { error, count } = await failing(kernel(), cell);
      assert.equal(error.evalue, 'from the body');
      assertCellFrame(error, count, cell, { line: 3, column: 7 });
    });
  }

  test('%time CODE: the code on the magic\'s line fails at that line and the column it has in the cell', async () => {
    const cell = "const first = 1;\n%time (() => { throw new Error('from the line') })()\nfirst";
    const { error, count } = await failing(kernel(), cell);
    assert.equal(error.evalue, 'from the line');
    assertCellFrame(error, count, cell, { line: 2, column: cell.split('\n')[1]!.indexOf('new Error') + 1 });
  });

  test('a type error in %%time\'s body is shown at the cell\'s line', async () => {
    const error = await errorOf(kernel(), "%%time\nconst typed: number = 'text';");
    assert.equal(error.ename, 'TSError');
    assert.match(error.evalue, /^2:7 - error TS2322/);
  });

  test('a type error in %time\'s code is shown at the magic\'s line and column, the line quoted as written', async () => {
    const cell = "const ok = 1;\n%time const typedLine: number = 'text'";
    const error = await errorOf(kernel(), cell);
    const [problem] = assertTsError(error);
    const column = cell.split('\n')[1]!.indexOf('typedLine') + 1;
    assert.deepEqual([problem?.code, problem?.line, problem?.column], [2322, 2, column], error.traceback.join('\n'));
    assertQuoted(error.traceback, problem!.at, { line: 2, column, source: cell.split('\n')[1]! });
  });
});
