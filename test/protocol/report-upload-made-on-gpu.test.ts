// A tensor made on gpu:0 from host values (tf.tensor, randomNormal under %device gpu:0) is held by
// tfjs in a host array until an op first uses it, and uploaded inside that op, untimed. An
// explicit `await x.to('gpu:0')` of it did nothing, so the upload the user asked for was not
// timed, and showed later, in another cell, as "uploaded at first use, time not measured". It is
// now made at the call, timed as the user's move; the cell times the call itself.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resultText } from '../support/exchange';
import { runOk, seenIn, theReport, useReportKernel } from '../support/report';

const ELEMENTS = 1024 * 1024; // 4 MiB of float32: a chunked upload, not one queue write

describe('inline report: x.to(\'gpu:0\') of a tensor made on gpu:0 from host values', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 started and used', async () => {
    await runOk(kernel(), '%device gpu:0\nawait tf.ones([4]).add(1).data();');
  });

  test('the upload happens at the call, as an explicit move of the tensor\'s bytes, within the time the cell measured around it', async (t) => {
    const exchange = await runOk(kernel(), [
      `const made = tf.randomNormal([${ELEMENTS}]);`,
      'const t0 = performance.now();',
      "await made.to('gpu:0');",
      'console.log(`measured ${JSON.stringify({ wall: performance.now() - t0 })}`);',
    ].join('\n'));
    const { wall } = seenIn<{ wall: number }>(exchange, 'measured');
    const report = theReport(exchange);
    t.diagnostic(`measured ${wall.toFixed(2)} ms || ${report.text.split('\n')[0]}`);
    const uploads = report.meta.transfers.filter((move) => move.direction === 'H2D');
    assert.equal(uploads.length, 1, JSON.stringify(report.meta.transfers));
    const move = uploads[0]!;
    assert.equal(move.bytes, ELEMENTS * 4, JSON.stringify(move));
    assert.equal(move.untimed, undefined, `timed: ${JSON.stringify(move)}`);
    assert.equal(move.cause, 'explicit', JSON.stringify(move));
    assert.equal(move.line, 3, JSON.stringify(move));
    assert.ok(move.ms <= wall + 0.5, `shown ${move.ms.toFixed(2)} ms, the call took ${wall.toFixed(2)} ms: ${report.text}`);
    assert.ok(move.ms >= 0.7 * wall, `shown ${move.ms.toFixed(2)} ms of the ${wall.toFixed(2)} ms the call took: ${report.text}`);
  });

  test('the op that uses it next uploads nothing: no "uploaded at first use" in its cell', async () => {
    const report = theReport(await runOk(kernel(), 'const used = made.add(1);\n(await used.data()).length'));
    // The scalar 1, made on gpu:0 too, is uploaded at first use (4 B): the tensor's 4 MiB are not.
    assert.deepEqual(report.meta.transfers.filter((move) => move.direction === 'H2D' && move.bytes === ELEMENTS * 4), [], report.text);
  });

  test('the move is the user\'s choice of device: an op with a cpu input gets the plain advice, not "it was made on gpu:0 … run on cpu"', async () => {
    const report = theReport(await runOk(kernel(), `const onCpu = await withDevice('cpu', () => tf.ones([${ELEMENTS}]));\nconst summed = made.add(onCpu);\n0`));
    const hints = report.meta.hints.filter((hint) => /made for you by the device policy/.test(hint));
    assert.deepEqual(hints, ["1 move made for you by the device policy at line 2 (Add): make it explicit with await onCpu.to('gpu:0')."], report.text);
  });

  test('an op using it before the move ends uploads it once: the move ends quietly, one upload recorded', async () => {
    const exchange = await runOk(kernel(), [
      `const raced = tf.randomNormal([${ELEMENTS}]);`,
      "const moving = raced.to('gpu:0');",
      'const doubled = raced.mul(2);',
      'await moving;',
      '[raced.device, (await doubled.data()).length]',
    ].join('\n'));
    const report = theReport(exchange);
    const uploads = report.meta.transfers.filter((move) => move.direction === 'H2D' && move.bytes === ELEMENTS * 4);
    assert.equal(uploads.length, 1, JSON.stringify(report.meta.transfers));
  });

  test('model.to(\'gpu:0\') of a model made on gpu:0 uploads every weight then, each its own bytes; predict uploads none of them later', async () => {
    const exchange = await runOk(kernel(), [
      'const onModel = tf.sequential();',
      "onModel.add(tf.layers.dense({ inputShape: [64], units: 256, activation: 'relu' }));",
      'onModel.add(tf.layers.dense({ units: 10 }));',
      'const sizes = onModel.weights.map((weight) => weight.shape.reduce((product, size) => product * size, 1) * 4);',
      "await onModel.to('gpu:0');",
      'sizes',
    ].join('\n'));
    const sizes = JSON.parse(resultText(exchange) ?? '[]') as number[];
    const report = theReport(exchange);
    const moves = report.meta.transfers.filter((move) => move.direction === 'H2D');
    assert.deepEqual(moves.map((move) => [move.bytes, move.operation, move.cause, move.untimed]).sort(),
      sizes.map((bytes) => [bytes, 'model.to', 'explicit', undefined]).sort(), report.text);
    const predicted = theReport(await runOk(kernel(), '(await (onModel.predict(tf.ones([2, 64])) as tf.Tensor).data()).length'));
    // Only the input, made on gpu:0 in that cell, is uploaded at first use: 2 × 64 floats.
    assert.deepEqual(predicted.meta.transfers.filter((move) => move.direction === 'H2D').map((move) => move.bytes), [2 * 64 * 4], predicted.text);
  });

  test('a bool tensor: its GPU bytes (4 a value), as a move of 3 values', async () => {
    const report = theReport(await runOk(kernel(), "const flags = tf.tensor1d([true, false, true], 'bool');\nawait flags.to('gpu:0');\nflags.device"));
    assert.deepEqual(report.meta.transfers.filter((move) => move.direction === 'H2D').map((move) => [move.bytes, move.cause]), [[12, 'explicit']], report.text);
  });
});
