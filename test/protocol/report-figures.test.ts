// Figures that were wrong when a cell's reads and its queued work overlapped: each checked against
// the cell's own measurement (an onSubmittedWorkDone fence, performance.now() around the awaits).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { GPU_HANDLE, printedNumber } from '../support/gpu-cell';
import { countOf, deviceOf, runOk, theReport, useReportKernel } from '../support/report';

describe('inline report: figures when reads and queued work overlap', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up', async () => {
    await runOk(kernel(), [
      '%device gpu:0',
      GPU_HANDLE,
      'const a = tf.randomNormal([1024, 1024]);',
      'const s = a.sum();',
      'let warm = tf.matMul(a, a).div(1024);',
      'await warm.data(); await s.data();',
    ].join('\n'));
  });

  test('work queued after a read started does not hold it up: its copy runs right behind the work before it', async (t) => {
    const exchange = await runOk(kernel(), [
      'const total = a.sum();',
      'flushGpu(); await gpu.device.queue.onSubmittedWorkDone();',
      'const t0 = performance.now();',
      'const pending = total.data();',
      'let q = a; for (let i = 0; i < 4; i++) q = tf.matMul(q, a).div(1024);',
      'flushGpu();',
      // The test's own measurements: how long until the read was back, and until the GPU finished the work queued after it began.
      'const fence = gpu.device.queue.onSubmittedWorkDone().then(() => performance.now() - t0);',
      'await pending;',
      'console.log(`read ${(performance.now() - t0).toFixed(3)}`);',
      'console.log(`fenced ${(await fence).toFixed(3)}`);',
    ].join('\n'));
    const [readMs, fenced] = [printedNumber(streamText(exchange, 'stdout'), 'read'), printedNumber(streamText(exchange, 'stdout'), 'fenced')];
    assert.ok(fenced >= 200, `the cell must queue at least 200 ms of GPU work to test this; it queued ${fenced} ms`);
    const report = theReport(exchange);
    const reads = report.meta.transfers.filter((move) => move.direction === 'D2H');
    assert.equal(reads.length, 1, `one readback: ${JSON.stringify(report.meta.transfers)}`);
    const read = reads[0]!;
    assert.equal(read.bytes, 4);
    t.diagnostic(`shown: wait ${read.waitMs.toFixed(1)} ms, copy ${read.copyMs.toFixed(2)} ms; measured: read back after ${readMs.toFixed(1)} ms, the later work fenced at ${fenced.toFixed(1)} ms`);
    assert.ok(readMs < 0.5 * fenced, `the read came back after ${readMs.toFixed(1)} ms, not after the ${fenced.toFixed(1)} ms of work queued behind it`);
    assert.ok(read.copyMs < 20, `the 4-byte copy shows ${read.copyMs.toFixed(1)} ms (under 20 ms expected): ${JSON.stringify(read)}`);
    assert.ok(read.ms <= readMs + 1, `the move shows ${read.ms.toFixed(1)} ms; the cell saw it back after ${readMs.toFixed(1)} ms`);
    assert.ok(Math.abs(read.waitMs + read.copyMs - read.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(read)}`);
  });

  test('reads awaited together: the wait shown is their union, within the cell\'s own timing, and each copy is its own', async (t) => {
    const exchange = await runOk(kernel(), [
      'let m = a; for (let i = 0; i < 4; i++) m = tf.matMul(m, a).div(1024);',
      'const r1 = m.add(1), r2 = m.add(2), r3 = m.add(3);',
      'const t0 = performance.now();',
      'await Promise.all([r1.data(), r2.data(), r3.data()]);',
      'console.log(`together ${(performance.now() - t0).toFixed(3)}`);',
    ].join('\n'));
    const together = printedNumber(streamText(exchange, 'stdout'), 'together');
    assert.ok(together >= 200, `the reads must wait at least 200 ms to test this; they took ${together} ms`);
    const report = theReport(exchange);
    const reads = report.meta.transfers.filter((move) => move.direction === 'D2H');
    assert.equal(reads.length, 3, `three readbacks: ${JSON.stringify(report.meta.transfers)}`);
    const line = /D2H 3× [^(]+\(copy ([^,]+), [^,]+, wait (\d+(?:\.\d+)?) (µs|ms|s)/.exec(report.text);
    assert.ok(line !== null, `the text has the D2H summary with a wait: ${report.text}`);
    const shownWait = Number(line[2]) * { µs: 1e-3, ms: 1, s: 1000 }[line[3] as 'µs' | 'ms' | 's'];
    t.diagnostic(`shown: wait ${shownWait.toFixed(1)} ms, copies ${reads.map((read) => read.copyMs.toFixed(2)).join(', ')} ms; measured: the three reads took ${together.toFixed(1)} ms together`);
    assert.ok(shownWait <= together + 1, `the wait shows ${shownWait.toFixed(1)} ms; the three reads took ${together.toFixed(1)} ms together (the wait cannot be longer): ${report.text}`);
    assert.ok(shownWait >= 0.5 * together, `the wait shows ${shownWait.toFixed(1)} ms of the ${together.toFixed(1)} ms the reads took (most of it is queued matMuls): ${report.text}`);
    for (const read of reads) {
      assert.equal(read.bytes, 4 * 2 ** 20);
      // Copying 4 MiB out of a GPU buffer takes real time (well over 0.1 ms on lavapipe).
      assert.ok(read.copyMs > 0.1, `a 4 MiB copy shows ${read.copyMs.toFixed(3)} ms: ${JSON.stringify(read)}`);
      assert.ok(read.waitMs <= together + 1 && read.ms <= together + 1, `one read's wait ${read.waitMs.toFixed(1)} ms and total ${read.ms.toFixed(1)} ms fit in ${together.toFixed(1)} ms: ${JSON.stringify(read)}`);
    }
    assert.doesNotMatch(line[1]!, /^0\.0 µs$/, `the summed copy is not 0: ${report.text}`);
  });

  test('work a cell left queued that ran before the next cell began is counted whole there, as queued by that cell', async (t) => {
    const queued = await runOk(kernel(), [
      'const t1 = performance.now();',
      'let r = a; for (let i = 0; i < 8; i++) r = tf.matMul(r, a).div(1024);',
      'flushGpu();',
      // The test's own measurement: the GPU was idle, so this fence is how long the GPU ran the cell's work.
      'const rFenced = gpu.device.queue.onSubmittedWorkDone().then(() => performance.now() - t1);',
    ].join('\n'));
    const earlier = countOf(queued);
    const first = deviceOf(theReport(queued), 'gpu:0').gpu;
    assert.ok(first !== null && first.stillBusy, `cell ${earlier} ends with its work still queued: ${JSON.stringify(first)}`);
    // Most of that work runs while no cell runs.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const exchange = await runOk(kernel(), 'console.log(`fenced ${(await rFenced).toFixed(3)}`);\nconst z = tf.ones([2]).add(1);\nawait z.data();');
    const fenced = printedNumber(streamText(exchange, 'stdout'), 'fenced');
    assert.ok(fenced >= 2000, `cell ${earlier} must queue at least 2 s of GPU work to test this; it queued ${fenced} ms`);
    const gpu = deviceOf(theReport(exchange), 'gpu:0').gpu;
    // Most of it ran before this cell began: named apart from this cell's GPU time, and counted here.
    assert.ok(gpu !== null && gpu.ranBeforeCells.includes(earlier), `names cell ${earlier}: ${JSON.stringify(gpu)}`);
    const ranBefore = gpu.ranBeforeMs;
    const shown = first.ms + gpu.earlierCellsMs + ranBefore;
    t.diagnostic(`shown: cell ${earlier} ${first.ms.toFixed(1)} ms + queued by cell ${earlier} ${gpu.earlierCellsMs.toFixed(1)} ms (GPU total ${gpu.ms.toFixed(1)} ms) + ${ranBefore.toFixed(1)} ms before the cell began; measured: fence ${fenced.toFixed(1)} ms`);
    // The GPU clock times passes only; the fence also counts what lies between them (75–100%, as in report-waits).
    assert.ok(shown >= 0.75 * fenced && shown <= fenced + 1,
      `cell ${earlier}'s work shows ${shown.toFixed(1)} ms in all (${first.ms.toFixed(1)} ms with it, ${ranBefore.toFixed(1)} ms between the cells, ${gpu.earlierCellsMs.toFixed(1)} ms queued by it in the next cell); its fence took ${fenced.toFixed(1)} ms`);
    assert.ok(gpu.ms >= gpu.earlierCellsMs, `the cell's GPU total counts it: ${JSON.stringify(gpu)}`);
  });

  test('a read\'s wait names no earlier cell whose work finished before the read began', async (t) => {
    const queued = await runOk(kernel(), [
      'const small = tf.matMul(a, a);',
      'flushGpu();',
      // The test's own measurement: when the GPU finished this cell's work.
      'const smallDone = gpu.device.queue.onSubmittedWorkDone().then(() => performance.now());',
    ].join('\n'));
    const earlier = countOf(queued);
    const exchange = await runOk(kernel(), [
      'const doneAt = await smallDone;',
      'await new Promise((resolve) => setTimeout(resolve, 300));',
      'let own = a; for (let i = 0; i < 2; i++) own = tf.matMul(own, a).div(1024);',
      'const readAt = performance.now();',
      'await own.data();',
      'console.log(`before ${(readAt - doneAt).toFixed(3)}`);',
    ].join('\n'));
    const before = printedNumber(streamText(exchange, 'stdout'), 'before');
    assert.ok(before > 0, `cell ${earlier}'s work must finish before the read begins; it finished ${before} ms before`);
    const report = theReport(exchange);
    // The scalar 1024 was made on gpu:0 and uploaded at its first op (an H2D before the read).
    const read = report.meta.transfers.find((move) => move.direction === 'D2H');
    assert.ok(read !== undefined, 'one readback');
    const gpuWork = read.waits.find((wait) => wait.cause === 'gpu-work');
    assert.ok(gpuWork !== undefined, `the read waits for this cell's own GPU work: ${JSON.stringify(read.waits)}`);
    t.diagnostic(`shown: wait ${gpuWork.ms.toFixed(1)} ms queued by cells [${gpuWork.earlierCells.join(', ')}]; measured: cell ${earlier}'s work finished ${before.toFixed(1)} ms before the read began`);
    assert.ok(!gpuWork.earlierCells.includes(earlier),
      `the wait names cell ${earlier}, whose work finished ${before.toFixed(1)} ms before the read began: ${JSON.stringify(read.waits)}`);
    assert.doesNotMatch(report.text, new RegExp(`GPU work queued by cell ${earlier}`), report.text);
  });

  test('passes tf.time timed itself: the report says their GPU time was not measured, not 0', async (t) => {
    const exchange = await runOk(kernel(), [
      'const info = await tf.time(() => { let x = a; for (let i = 0; i < 3; i++) x = tf.matMul(x, a).div(1024); return x; });',
      'console.log(`kernel ${info.kernelMs}`);',
    ].join('\n'));
    // tfjs's own measurement: the GPU ran the 6 programs for kernelMs.
    const kernelMs = printedNumber(streamText(exchange, 'stdout'), 'kernel');
    assert.ok(kernelMs > 0, `tf.time measured ${kernelMs} ms of GPU time`);
    const report = theReport(exchange);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    assert.ok(gpu !== null, 'gpu:0 has a GPU figure');
    const untimed = /GPU time not measured for (\d+) pass(?:es)? timed by tf\.time\/tf\.profile/.exec(report.text);
    t.diagnostic(`shown: GPU ${gpu.ms.toFixed(1)} ms, ${untimed?.[1] ?? 'no'} passes not measured; measured: tf.time kernelMs ${kernelMs.toFixed(1)} over 6 programs`);
    assert.ok(untimed !== null, `the text says the GPU time of tf.time's passes was not measured (tf.time measured ${kernelMs.toFixed(1)} ms): ${report.text}`);
    assert.equal(Number(untimed[1]), 6, `6 programs ran under tf.time: ${report.text}`);
    assert.doesNotMatch(report.text, /GPU 0\.0 µs/, `no GPU time of 0 where ${kernelMs.toFixed(1)} ms ran: ${report.text}`);
  });
});
