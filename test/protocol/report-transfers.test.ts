// The report's ledger (metadata.tsgpu.transfers): exact bytes in both directions, where and why each
// move happened, and a time for a move that agrees with what the cell itself measured around it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resultText, streamText } from '../support/exchange';
import { deviceOf, reportOf, runOk, theReport, useReportKernel } from '../support/report';

const FLOAT32 = 4;

describe('inline report: transfers in metadata.tsgpu', () => {
  const kernel = useReportKernel();

  test("float32 [1024] moved with x.to('gpu:0') is one H2D of exactly 4096 B, explicit, op 'to', at its line", async () => {
    const report = await reportOf(kernel(), "const x = tf.ones([1024]);\nawait x.to('gpu:0');");
    assert.deepEqual(report.meta.transfers.map(({ direction, from, to, bytes, cause, operation, line, scalar }) =>
      ({ direction, from, to, bytes, cause, operation, line, scalar })), [
      { direction: 'H2D', from: 'cpu', to: 'gpu:0', bytes: 1024 * FLOAT32, cause: 'explicit', operation: 'to', line: 2, scalar: false },
    ]);
    const [move] = report.meta.transfers;
    assert.ok(move !== undefined && move.ms > 0, `a move takes some time: ${JSON.stringify(move)}`);
    assert.ok(move.at >= 0 && move.at <= report.meta.durationMs, `at (${move.at}) lies inside the cell (${report.meta.durationMs} ms)`);
    const gpu = deviceOf(report, 'gpu:0');
    assert.equal(gpu.software, true, 'lavapipe is a software GPU');
    assert.equal(gpu.liveBytes - gpu.liveBytesBefore, 1024 * FLOAT32, `gpu:0 holds 4096 B more: ${JSON.stringify(gpu)}`);
  });

  test("reading it back with await x.data() is one D2H of exactly 4096 B, explicit, op 'data'", async () => {
    const report = await reportOf(kernel(), 'const values = await x.data();\nvalues.length');
    assert.deepEqual(report.meta.transfers.map(({ direction, from, to, bytes, cause, operation, line, scalar }) =>
      ({ direction, from, to, bytes, cause, operation, line, scalar })), [
      { direction: 'D2H', from: 'gpu:0', to: 'cpu', bytes: 1024 * FLOAT32, cause: 'explicit', operation: 'data', line: 1, scalar: false },
    ]);
  });

  test('other sizes and dtypes are exact too: int32 [3, 5] = 60 B up, 60 B down', async () => {
    const up = await reportOf(kernel(), "const small = tf.zeros([3, 5], 'int32');\nawait small.to('gpu:0');");
    assert.deepEqual(up.meta.transfers.map((transfer) => [transfer.direction, transfer.bytes]), [['H2D', 60]]);
    const down = await reportOf(kernel(), '\nawait small.data();');
    assert.deepEqual(down.meta.transfers.map((transfer) => [transfer.direction, transfer.bytes, transfer.line]), [['D2H', 60, 2]]);
  });

  test('the ms reported for a 16 MB H2D move is within 10% (+1 ms) of what the cell measured around it', async () => {
    // Warm the device up first, so neither measurement includes adapter or pipeline setup.
    await runOk(kernel(), "const warm = tf.ones([64]);\nawait warm.to('gpu:0');\nawait warm.data();");
    const elements = 4 * 1024 * 1024;
    const exchange = await runOk(kernel(), [
      `const big = tf.ones([${elements}]);`,
      'const started = performance.now();',
      "await big.to('gpu:0');",
      'const measured = performance.now() - started;',
      'console.log(`measured ${measured.toFixed(3)} ms`);',
    ].join('\n'));
    const printed = /measured (\d+(?:\.\d+)?) ms/.exec(streamText(exchange, 'stdout'));
    assert.ok(printed !== null, `the cell printed no measurement: ${JSON.stringify(streamText(exchange, 'stdout'))}`);
    const measured = Number(printed[1]);
    const report = theReport(exchange);
    const moves = report.meta.transfers.filter((transfer) => transfer.direction === 'H2D' && !transfer.scalar);
    assert.equal(moves.length, 1, `one H2D move: ${JSON.stringify(report.meta.transfers)}`);
    const [move] = moves;
    assert.ok(move !== undefined);
    assert.equal(move.bytes, elements * FLOAT32, 'exactly 16 MiB');
    assert.equal(move.line, 3);
    const allowed = 0.1 * measured + 1;
    assert.ok(Math.abs(move.ms - measured) <= allowed,
      `report says ${move.ms.toFixed(3)} ms, the cell measured ${measured.toFixed(3)} ms (allowed difference ${allowed.toFixed(3)} ms)`);
    assert.equal(resultText(await runOk(kernel(), 'big.dispose();\nbig.isDisposed')), 'true');
  });
});
