// A read's wait split into what it really waited for, each part checked against the cell's own
// measurement: GPU work (the cell's timestamp queries around that work), the host running other
// code between x.data() and its await (the cell times its own busy loop), and earlier cells' work
// apart from the cell's own (the earlier cell's work timed by its own timestamps, and the GPU
// time the report itself shows as queued by that cell).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { GPU_HANDLE, GPU_STAMPS, printedNumber } from '../support/gpu-cell';
import { countOf, deviceOf, runOk, theReport, useReportKernel, type ReportTransfer } from '../support/report';

/** The host's busy loop after data(): long beside the GPU work each test queues (tens to hundreds of ms). */
const SPIN = 'const spinFrom = performance.now(); while (performance.now() - spinFrom < 2000) {}\nconst spun = performance.now() - spinFrom;';

function partsOf(read: ReportTransfer, cause: ReportTransfer['waits'][number]['cause']): number {
  return read.waits.filter((wait) => wait.cause === cause).reduce((sum, wait) => sum + wait.ms, 0);
}

function checkSums(read: ReportTransfer): void {
  assert.ok(Math.abs(read.waitMs + read.copyMs - read.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(read)}`);
  const parts = read.waits.reduce((sum, wait) => sum + wait.ms, 0);
  assert.ok(Math.abs(parts - read.waitMs) < 0.01, `the wait's parts add up to waitMs (${parts.toFixed(3)} vs ${read.waitMs.toFixed(3)}): ${JSON.stringify(read.waits)}`);
}

describe('inline report: what a read waited for, split truly', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up, one staging buffer made, the GPU seen idle', async () => {
    await runOk(kernel(), [
      '%device gpu:0',
      GPU_HANDLE,
      GPU_STAMPS,
      'const a = tf.randomNormal([1024, 1024]), m = tf.randomNormal([512, 512]);',
      'const big = tf.mul(tf.randomNormal([8 * 1024 * 1024]), 2);',
      'await tf.matMul(a, a).slice([0, 0], [1, 1]).data();',
      'await tf.matMul(m, m).div(512).slice([0, 0], [1, 1]).data();',
      'await tf.add(big.slice([0], [4]), 0).data();',
    ].join('\n'));
  });

  test('a 32 MiB read of an idle GPU with host code before its await: the new staging buffers\' set-up is not the host\'s time', async (t) => {
    // The one staging buffer is taken by the first chunk; the next three are made and mapped while the host runs its loop.
    const exchange = await runOk(kernel(), [
      'const pending = big.data();',
      SPIN,
      'await pending;',
      'console.log(`spun ${spun.toFixed(3)}`);',
    ].join('\n'));
    const spun = printedNumber(streamText(exchange, 'stdout'), 'spun');
    const report = theReport(exchange);
    const read = report.meta.transfers.find((move) => move.direction === 'D2H');
    assert.ok(read !== undefined && read.bytes === 32 * 2 ** 20, `one 32 MiB readback: ${JSON.stringify(report.meta.transfers)}`);
    checkSums(read);
    const setup = partsOf(read, 'gpu-setup') + partsOf(read, 'staging-setup');
    const host = partsOf(read, 'host-busy');
    t.diagnostic(`shown: set-up ${setup.toFixed(1)} ms, GPU work ${partsOf(read, 'gpu-work').toFixed(1)} ms, host busy ${host.toFixed(1)} ms, copy ${read.copyMs.toFixed(1)} ms of ${read.ms.toFixed(1)} ms; measured: the host looped ${spun.toFixed(1)} ms`);
    assert.ok(read.ms >= spun, `the read was seen to end after the loop (${read.ms.toFixed(1)} ms ≥ ${spun.toFixed(1)} ms)`);
    assert.ok(setup < 0.5 * spun, `staging set-up shows ${setup.toFixed(1)} ms: the host's ${spun.toFixed(1)} ms loop is not set-up: ${JSON.stringify(read.waits)}`);
    assert.ok(host >= 0.5 * spun && host <= 1.1 * spun, `host busy shows ${host.toFixed(1)} ms; the host looped ${spun.toFixed(1)} ms: ${JSON.stringify(read.waits)}`);
    assert.match(report.text, /host busy/, report.text);
  });

  test('an 8 MiB read of an idle GPU with host code before its await: the copy is the GPU\'s copying, not the host\'s loop', async (t) => {
    const exchange = await runOk(kernel(), [
      'const half = tf.mul(big.slice([0], [2 * 1024 * 1024]), 3);',
      // Computed and seen done: the read finds the GPU idle and its staging buffers made.
      'await tf.add(half.slice([0], [4]), 0).data();',
      'const pending = half.data();',
      SPIN,
      'await pending;',
      // The test's own measurement of the same read with the host idle (its values were kept: another tensor).
      'const again = tf.add(half, 0); await tf.add(again.slice([0], [4]), 0).data();',
      'const quietFrom = performance.now(); await again.data(); const quiet = performance.now() - quietFrom;',
      'console.log(`spun ${spun.toFixed(3)}`);',
      'console.log(`quiet ${quiet.toFixed(3)}`);',
    ].join('\n'));
    const stdout = streamText(exchange, 'stdout');
    const [spun, quiet] = [printedNumber(stdout, 'spun'), printedNumber(stdout, 'quiet')];
    assert.ok(quiet < 0.25 * spun, `the read must take well under the host's ${spun.toFixed(1)} ms loop to test this; it took ${quiet.toFixed(1)} ms with the host idle`);
    const report = theReport(exchange);
    const read = report.meta.transfers.find((move) => move.direction === 'D2H' && move.bytes === 8 * 2 ** 20);
    assert.ok(read !== undefined, `the 8 MiB readback: ${JSON.stringify(report.meta.transfers)}`);
    checkSums(read);
    const host = partsOf(read, 'host-busy');
    t.diagnostic(`shown: copy ${read.copyMs.toFixed(1)} ms, wait ${read.waitMs.toFixed(1)} ms (host busy ${host.toFixed(1)} ms) of ${read.ms.toFixed(1)} ms; measured: host loop ${spun.toFixed(1)} ms, the same read with the host idle ${quiet.toFixed(1)} ms`);
    assert.ok(read.ms >= spun, `the read was seen to end after the loop (${read.ms.toFixed(1)} ms ≥ ${spun.toFixed(1)} ms)`);
    assert.ok(read.copyMs > 0.1 && read.copyMs < 0.25 * spun, `the copy shows ${read.copyMs.toFixed(1)} ms: copying 8 MiB is not the host's ${spun.toFixed(1)} ms loop: ${JSON.stringify(read)}`);
    assert.ok(host >= 0.5 * spun && host <= 1.1 * spun, `host busy shows ${host.toFixed(1)} ms; the host looped ${spun.toFixed(1)} ms: ${JSON.stringify(read.waits)}`);
  });

  test('host code between data() and await is host busy, not GPU work: the GPU part is within the work\'s own GPU time', async (t) => {
    const exchange = await runOk(kernel(), [
      'const opening = openingStamp();',
      'let w = m; for (let i = 0; i < 2; i++) w = tf.matMul(w, m).div(512);',
      'const corner = w.slice([0, 0], [1, 1]);',
      'gpu.device.queue.submit([opening]);',
      'flushGpu();',
      'stampGpu(1);',
      'const pending = corner.data();',
      SPIN,
      'await pending;',
      // The test's own measurements: the GPU's timestamps around the work the read waits for, and the loop.
      'console.log(`stamped ${(await readStamps()).toFixed(3)}`);',
      'console.log(`spun ${spun.toFixed(3)}`);',
    ].join('\n'));
    const stdout = streamText(exchange, 'stdout');
    const [stamped, spun] = [printedNumber(stdout, 'stamped'), printedNumber(stdout, 'spun')];
    assert.ok(stamped >= 20 && stamped < 0.5 * spun, `the cell must queue GPU work well under its ${spun.toFixed(1)} ms loop to test this; it queued ${stamped} ms`);
    const report = theReport(exchange);
    const read = report.meta.transfers.find((move) => move.direction === 'D2H');
    assert.ok(read !== undefined && read.bytes === 4, `one 4-byte readback: ${JSON.stringify(report.meta.transfers)}`);
    checkSums(read);
    const gpuWork = partsOf(read, 'gpu-work');
    const host = partsOf(read, 'host-busy');
    t.diagnostic(`shown: wait ${read.waitMs.toFixed(1)} ms = GPU work ${gpuWork.toFixed(1)} ms + queue latency ${partsOf(read, 'gpu-latency').toFixed(1)} ms + host busy ${host.toFixed(1)} ms, copy ${read.copyMs.toFixed(2)} ms; measured: GPU work ${stamped.toFixed(1)} ms by its timestamps, host loop ${spun.toFixed(1)} ms`);
    assert.ok(read.ms >= spun, `the read was seen to end after the loop (${read.ms.toFixed(1)} ms ≥ ${spun.toFixed(1)} ms)`);
    // The GPU clock times passes only, as report-waits allows (75%); above, only the poll's own lateness.
    assert.ok(gpuWork <= stamped + 0.05 * spun, `the wait shows ${gpuWork.toFixed(1)} ms of GPU work; the GPU ran it in ${stamped.toFixed(1)} ms (the host looped ${spun.toFixed(1)} ms)`);
    assert.ok(gpuWork >= 0.75 * stamped, `the wait shows ${gpuWork.toFixed(1)} ms of GPU work; the GPU ran the work it waited for in ${stamped.toFixed(1)} ms`);
    assert.ok(host >= spun - stamped - 0.05 * spun && host <= 1.1 * spun, `host busy shows ${host.toFixed(1)} ms; the host looped ${spun.toFixed(1)} ms, ${stamped.toFixed(1)} ms of it beside the GPU work`);
    // The fence's round trip beyond the GPU's passes, if any, is named between the two.
    const shown = /wait (\d+(?:\.\d+)?) (µs|ms|s) gpu:0 GPU work \+ (?:\d+(?:\.\d+)? (?:µs|ms|s) gpu:0 queue latency \+ )?(\d+(?:\.\d+)?) (µs|ms|s) host busy/.exec(report.text);
    assert.ok(shown !== null, `the text shows the GPU work and the host busy apart: ${report.text}`);
    const unit = { µs: 1e-3, ms: 1, s: 1000 };
    assert.ok(Number(shown[1]) * unit[shown[2] as keyof typeof unit] <= stamped + 0.05 * spun, `the text's GPU work figure is within the GPU's own time: ${report.text}`);
  });

  test('a read waiting for an earlier cell\'s work and then its own names the earlier cell only for that cell\'s part', async (t) => {
    // The earlier cell's work, bracketed by its own timestamps, submitted and left running.
    const queued = await runOk(kernel(), [
      'const opening = openingStamp();',
      'let e = a; for (let i = 0; i < 3; i++) e = tf.matMul(e, a).div(1024);',
      'gpu.device.queue.submit([opening]);',
      'flushGpu();',
      'stampGpu(1);',
    ].join('\n'));
    const earlier = countOf(queued);
    const exchange = await runOk(kernel(), [
      'let own = a; for (let i = 0; i < 6; i++) own = tf.matMul(own, a).div(1024);',
      'await own.slice([0, 0], [1, 1]).data();',
      // The earlier cell's work by its own timestamps (read after the wait, so as not to wait for it first).
      'console.log(`earlier ${(await readStamps()).toFixed(3)}`);',
    ].join('\n'));
    const earlierStamped = printedNumber(streamText(exchange, 'stdout'), 'earlier');
    const report = theReport(exchange);
    const read = report.meta.transfers.find((move) => move.direction === 'D2H');
    assert.ok(read !== undefined && read.bytes === 4, `one 4-byte readback: ${JSON.stringify(report.meta.transfers)}`);
    checkSums(read);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    assert.ok(gpu !== null && gpu.source === 'timestamps', `gpu:0 has timestamp times: ${JSON.stringify(gpu)}`);
    const byEarlier = read.waits.filter((wait) => wait.cause === 'gpu-work' && wait.earlierCells.length > 0);
    const byEarlierMs = byEarlier.reduce((sum, wait) => sum + wait.ms, 0);
    const ownMs = read.waits.filter((wait) => wait.cause === 'gpu-work' && wait.earlierCells.length === 0).reduce((sum, wait) => sum + wait.ms, 0);
    t.diagnostic(`shown: wait ${read.waitMs.toFixed(1)} ms = ${byEarlierMs.toFixed(1)} ms queued by cell ${earlier} + ${ownMs.toFixed(1)} ms own; GPU ${gpu.ms.toFixed(1)} ms, ${gpu.earlierCellsMs.toFixed(1)} ms of it queued by cells ${gpu.earlierCells.join(' ')}; `
      + `measured: cell ${earlier}'s work ${earlierStamped.toFixed(1)} ms by its timestamps`);
    assert.ok(read.waitMs >= 1.5 * earlierStamped, `the cell must queue more work than cell ${earlier} to test this: the read waited ${read.waitMs.toFixed(1)} ms, cell ${earlier}'s work took ${earlierStamped.toFixed(1)} ms`);
    assert.ok(byEarlierMs > 0, `cell ${earlier}'s work must still run when the read begins to test this: ${JSON.stringify(read.waits)}`);
    assert.ok(byEarlier.every((wait) => wait.earlierCells.length === 1 && wait.earlierCells[0] === earlier), `only cell ${earlier} is named: ${JSON.stringify(read.waits)}`);
    assert.ok(byEarlierMs <= gpu.earlierCellsMs + 1, `the wait shows ${byEarlierMs.toFixed(1)} ms queued by cell ${earlier}; the report's own GPU time queued by it is ${gpu.earlierCellsMs.toFixed(1)} ms`);
    assert.ok(byEarlierMs <= earlierStamped + 1, `the wait shows ${byEarlierMs.toFixed(1)} ms queued by cell ${earlier}; that cell's work took ${earlierStamped.toFixed(1)} ms by its own timestamps`);
    // The rest is this cell's work, and the queue's latency where the GPU ran none of it.
    const latencyMs = partsOf(read, 'gpu-latency');
    assert.ok(ownMs + latencyMs >= read.waitMs - earlierStamped - 1, `the rest of the ${read.waitMs.toFixed(1)} ms wait is this cell's work: ${ownMs.toFixed(1)} ms shown as such, ${latencyMs.toFixed(1)} ms as the queue's latency`);
    assert.match(report.text, new RegExp(`gpu:0 GPU work queued by cell ${earlier} \\+ [\\d.]+ (µs|ms|s) gpu:0 GPU work`), report.text);
  });
});
