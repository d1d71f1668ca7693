// Bytes as they cross the bus and as the GPU holds them, one record per real move, and GB/s over
// the copy alone: each checked against what the test computes or measures itself.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { liveBytes } from '../support/devices';
import { printedNumber } from '../support/gpu-cell';
import { reportOf, runOk, theReport, useReportKernel } from '../support/report';

/** tfjs-backend-webgpu keeps float32, int32 and bool in 4 bytes per element. */
const GPU_BYTES = 4;

describe('inline report: exact bytes and one record per move', () => {
  const kernel = useReportKernel();

  for (const [dtype, values] of [['float32', '[1.5, -2, 3, 4, 5]'], ['int32', '[1, -2, 3, 4, 5]'], ['bool', '[true, false, true, true, false]']] as const) {
    test(`${dtype} [5]: 20 B up, 20 B down, and gpu:0 holds 20 B more (as the GPU stores it)`, async () => {
      const name = `t_${dtype}`;
      // gpu:0 started, so %memory lists it.
      await runOk(kernel(), `const warm_${dtype} = tf.ones([4]);\nawait warm_${dtype}.to('gpu:0');`);
      const memoryBefore = liveBytes(streamText(await runOk(kernel(), '%memory'), 'stdout'), 'gpu:0').bytes;
      const up = await reportOf(kernel(), `const ${name} = tf.tensor(${values}, [5], '${dtype}');\nawait ${name}.to('gpu:0');`);
      assert.deepEqual(up.meta.transfers.map((move) => [move.direction, move.bytes]), [['H2D', 5 * GPU_BYTES]]);
      const memoryAfter = liveBytes(streamText(await runOk(kernel(), '%memory'), 'stdout'), 'gpu:0').bytes;
      assert.equal(memoryAfter - memoryBefore, 5 * GPU_BYTES, `%memory: gpu:0 holds ${5 * GPU_BYTES} B more`);
      const down = await reportOf(kernel(), `await ${name}.data();`);
      assert.deepEqual(down.meta.transfers.map((move) => [move.direction, move.bytes]), [['D2H', 5 * GPU_BYTES]]);
    });
  }

  // tfjs counts a complex64 tensor as 0 bytes (its two float32 parts hold the values): a read of
  // one on gpu:0 showed `D2H 1× 0 B`, and one whose parts were host arrays a move that never crossed.
  test('a complex64 tensor on gpu:0 read: its two parts\' bytes, as the values returned; with its parts on the host, no move', async () => {
    const exchange = await runOk(kernel(), [
      "const re = tf.range(0, 1000).to('gpu:0'), im = tf.range(1000, 2000).to('gpu:0');",
      'const [reOnGpu, imOnGpu] = await Promise.all([re, im]);',
      'const zc = tf.complex(reOnGpu.mul(1), imOnGpu.mul(1));',
      'const zv = await zc.data();',
      'console.log(`returned ${zv.length * zv.BYTES_PER_ELEMENT}`);',
    ].join('\n'));
    const returned = printedNumber(streamText(exchange, 'stdout'), 'returned');
    const reads = theReport(exchange).meta.transfers.filter((move) => move.direction === 'D2H');
    assert.deepEqual(reads.map((move) => [move.operation, move.bytes]), [['data', returned]], `the read brought ${returned} B: ${JSON.stringify(reads)}`);
    // One part in a GPU buffer, the other still a host array: only the first crosses.
    const half = await runOk(kernel(), [
      "const reOnly = await tf.range(0, 1000).to('gpu:0');",
      "const imHost = await withDevice('gpu:0', () => tf.tensor(Float32Array.from({ length: 1000 }, (_, i) => i)));",
      'const halfC = tf.complex(reOnly, imHost);',
      'await halfC.data();',
    ].join('\n'));
    const halfReads = theReport(half).meta.transfers.filter((move) => move.direction === 'D2H');
    assert.deepEqual(halfReads.map((move) => move.bytes), [1000 * 4], `only the part in a GPU buffer crossed: ${JSON.stringify(halfReads)}`);
    const hostParts = await runOk(kernel(), "const hc = await withDevice('gpu:0', () => tf.complex(tf.ones([1000]), tf.zeros([1000])));\nconsole.log(`on ${hc.device}`);\nawait hc.data();");
    assert.match(streamText(hostParts, 'stdout'), /on gpu:0/, 'precondition: the complex tensor is a gpu:0 tensor');
    const moves = theReport(hostParts).meta.transfers;
    assert.deepEqual(moves.filter((move) => move.direction === 'D2H'), [], `its parts were host arrays, nothing crossed: ${JSON.stringify(moves)}`);
  });

  test('await x.array() on a GPU tensor is one readback (array() reads through data())', async () => {
    const report = await reportOf(kernel(), "const ar = tf.ones([64]);\nawait ar.to('gpu:0');\nconst rows = await ar.array();");
    assert.deepEqual(report.meta.transfers.map((move) => [move.direction, move.operation, move.bytes]), [['H2D', 'to', 256], ['D2H', 'array', 256]]);
  });

  test('data() then cpu(): one readback; the move to the host uses the copy data() kept', async () => {
    const report = await reportOf(kernel(), "const dc = tf.ones([1024]);\nawait dc.to('gpu:0');\nawait dc.data();\nawait dc.cpu();\ndc.device");
    assert.deepEqual(report.meta.transfers.map((move) => [move.direction, move.operation]), [['H2D', 'to'], ['D2H', 'data']],
      `no second D2H for cpu(): ${JSON.stringify(report.meta.transfers)}`);
  });

  test('item() is one 4-byte readback; print() after it reads the host copy and moves nothing', async () => {
    const report = await reportOf(kernel(), "const it = tf.scalar(7);\nawait it.to('gpu:0');\nconst seven = await it.item();\nit.print();");
    assert.deepEqual(report.meta.transfers.map((move) => [move.direction, move.operation, move.bytes]), [['H2D', 'to', 4], ['D2H', 'item', 4]]);
  });

  // 15% + 5 ms: two busy shared cores delay the awaits around a move by tens of ms now and then.
  test('64 MiB up and down: GB/s shown is bytes / copyMs (> 0), and the move\'s ms is within 15% (+5 ms) of the cell\'s own timing', async () => {
    await runOk(kernel(), "const warmUp = tf.ones([4 * 1024 * 1024]);\nawait warmUp.to('gpu:0');\nawait warmUp.cpu();\nwarmUp.dispose();");
    const elements = 16 * 1024 * 1024;
    const exchange = await runOk(kernel(), [
      `const big = tf.ones([${elements}]);`,
      'let started = performance.now();',
      "await big.to('gpu:0');",
      'console.log(`up ${(performance.now() - started).toFixed(3)}`);',
      'started = performance.now();',
      'await big.cpu();',
      'console.log(`down ${(performance.now() - started).toFixed(3)}`);',
      'big.dispose();',
    ].join('\n'));
    const stdout = streamText(exchange, 'stdout');
    const report = theReport(exchange);
    for (const [direction, label] of [['H2D', 'up'], ['D2H', 'down']] as const) {
      const measured = printedNumber(stdout, label);
      const moves = report.meta.transfers.filter((move) => move.direction === direction);
      assert.equal(moves.length, 1, `one ${direction}: ${JSON.stringify(report.meta.transfers)}`);
      const move = moves[0]!;
      assert.equal(move.bytes, elements * 4, '64 MiB exactly');
      assert.ok(Math.abs(move.ms - measured) <= 0.15 * measured + 5, `${direction}: the report says ${move.ms.toFixed(2)} ms, the cell measured ${measured.toFixed(2)} ms`);
      assert.ok(move.copyMs > 0 && move.copyMs <= move.ms, `${direction}: 0 < copyMs ≤ ms: ${JSON.stringify(move)}`);
      const rate = move.bytes / move.copyMs / 1e6;
      const shown = new RegExp(`${direction} 1× 64\\.0 MiB [^;]*?, ([\\d.]+) GB/s`).exec(report.text);
      assert.ok(shown !== null, `the text gives ${direction}'s GB/s: ${report.text}`);
      const shownRate = Number(shown[1]);
      assert.ok(shownRate > 0, `${direction} GB/s > 0`);
      assert.ok(Math.abs(shownRate - rate) <= Math.max(0.0005, 0.01 * rate), `${direction}: shown ${shownRate} GB/s, bytes / copyMs = ${rate.toFixed(4)} GB/s`);
    }
  });

  test('a loop of 21,000 moves (past the 20,000 kept one by one): the report counts every one, %transfers all says how many older moves it folded', async () => {
    const report = await reportOf(kernel(), [
      "const resident = tf.ones([4]);\nawait resident.to('gpu:0');",
      'for (let i = 0; i < 21000; i++) tf.tidy(() => { resident.add(tf.ones([4])); });',
    ].join('\n'));
    const shown = /H2D (\d+)× ([\d.]+ KiB)/.exec(report.text);
    assert.ok(shown !== null && Number(shown[1]) === 21001, `the report counts 21,001 moves up: ${report.text.split('\n')[0]}`);
    const folded = report.meta.foldedTransfers.reduce((sum, group) => sum + group.count, 0);
    assert.ok(folded > 0 && folded + report.meta.transfers.length === 21001, `kept ${report.meta.transfers.length}, folded ${folded}`);
    const listing = streamText(await runOk(kernel(), '%transfers all'), 'stdout');
    assert.match(listing, /\b\d+ older moves folded into \d+ lines?/, listing.slice(-400));
  });
});
