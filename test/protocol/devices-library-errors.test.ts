// Errors raised deep inside a library call (a strict-policy DeviceError inside model.predict) name
// the user's cell line with a caret, as one from a direct op does; and `%device auto` says which
// device it chose and why, in the terms %devices lists.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { countOf, parseTextTable, printed, runCell, runOk, useDeviceKernel, valueOf } from '../support/devices';
import { executeReply, iopubOf } from '../support/exchange';
import type { KernelClient } from '../support/kernel-client';
import { assertQuoted, cellFrames } from '../support/typescript';

const SETUP = [
  'const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });',
  "await model.to('gpu:0');",
  "const onGpu = await tf.ones([3, 2]).to('gpu:0');",
  "model.weights.map((w) => w.read().device).join(',')",
].join('\n');

/** Runs `cell` under %device_policy strict; its DeviceError, with the cell's execution count. */
async function strictError(kernel: KernelClient, cell: string): Promise<{ traceback: string[]; count: number }> {
  assert.match(await printed(kernel, '%device_policy strict'), /\bstrict\b/);
  try {
    const exchange = await runCell(kernel, cell);
    assert.equal(executeReply(exchange).status, 'error', `${JSON.stringify(cell)} should fail`);
    const [error] = iopubOf(exchange, 'error');
    assert.equal(error?.ename, 'DeviceError', JSON.stringify(error));
    return { traceback: error.traceback, count: countOf(exchange) };
  } finally {
    await printed(kernel, '%device_policy auto');
  }
}

/** The first cell frame is this cell's, at `line` and the column of the `.method(` called there, with the line quoted under a caret. */
function assertCaretAt(failure: { traceback: string[]; count: number }, cell: string, line: number, method: string): void {
  const shown = failure.traceback.join('\n');
  const source = cell.split('\n')[line - 1]!;
  const column = source.indexOf(`.${method}(`) + 2;
  const [top] = cellFrames(failure.traceback);
  assert.deepEqual(top && [top.cell, top.line, top.column], [failure.count, line, column], shown);
  const quoted = failure.traceback.indexOf(`${line} | ${source}`);
  assert.ok(quoted > 0, `line ${line} should be quoted:\n${shown}`);
  assertQuoted(failure.traceback, quoted - 1, { line, column, source });
}

describe('an error from inside a library call names the cell line', () => {
  const kernel = useDeviceKernel();
  before(async () => {
    assert.equal(await valueOf(kernel(), SETUP), "'gpu:0,gpu:0'");
  });

  test('a strict-policy DeviceError from a direct op (onGpu.add) has the cell line and caret', async () => {
    const cell = 'const hostOnes = tf.ones([3, 2]);\nconst added = onGpu.add(hostOnes);';
    assertCaretAt(await strictError(kernel(), cell), cell, 2, 'add');
  });

  test('a strict-policy DeviceError from inside model.predict (weights on gpu:0, input on cpu) has the cell line and caret too', async () => {
    const cell = 'const hostInput = tf.ones([3, 2]);\nconst predicted = model.predict(hostInput);';
    assertCaretAt(await strictError(kernel(), cell), cell, 2, 'predict');
  });

  test('a strict-policy DeviceError from inside model.fit (raised in its promise chain, weights on gpu:0, data on cpu) has the cell line and caret', async () => {
    await runOk(kernel(), "model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });");
    const cell = 'const hostXs = tf.ones([4, 2]);\nconst hostYs = tf.ones([4, 1]);\nawait model.fit(hostXs, hostYs, { epochs: 1 });';
    assertCaretAt(await strictError(kernel(), cell), cell, 3, 'fit');
  });

  test('after it, the model still predicts on gpu:0 from a gpu:0 input', async () => {
    assert.equal(await valueOf(kernel(), '(model.predict(onGpu) as tf.Tensor).device'), "'gpu:0'");
  });
});

describe('%device auto says which device it chose and why', () => {
  const kernel = useDeviceKernel();

  test('the message names the device chosen and, for a software GPU it skipped, that GPU and how to use it anyway', async () => {
    const table = parseTextTable(await printed(kernel(), '%devices'));
    assert.ok(table !== undefined, 'the %devices table');
    const rows = table.rows.map((row) => ({ name: row.cells[0]!.replace(/^\*\s*/, ''), kind: row.cells[1]!, backedBy: row.cells.at(-1)! }));
    const gpus = rows.filter((row) => row.kind.startsWith('gpu'));
    const hardware = gpus.find((row) => row.kind === 'gpu');
    const software = gpus.filter((row) => row.kind === 'gpu (software)');
    const said = (await printed(kernel(), '%device auto')).trim();
    try {
      if (hardware) {
        assert.match(said, new RegExp(`^device ${hardware.name} \\(auto: the first hardware GPU, `), said);
      } else if (software.length > 0) {
        const skipped = /^device cpu \(auto skipped (gpu:\d+) \(([^)]+)\), a software GPU: slower than the CPU backend for tensor work; `%device (gpu:\d+)` to use it anyway\)$/.exec(said);
        assert.ok(skipped, said);
        const [, name, adapter, suggested] = skipped;
        assert.equal(name, software[0]!.name);
        assert.equal(suggested, software[0]!.name);
        assert.ok(software[0]!.backedBy.includes(adapter!), `the adapter named (${adapter}) is the one %devices lists: ${software[0]!.backedBy}`);
      } else {
        assert.match(said, /^device cpu \(auto: no GPU found/, said);
      }
      const chosen = /^device (\S+)/.exec(said)?.[1];
      assert.match(await printed(kernel(), '%device'), new RegExp(`^current device: ${chosen}\\b`));
    } finally {
      await runOk(kernel(), '%device cpu');
    }
  });
});
