// A read queues its copy right behind a fence for the GPU's queued work, and gets its staging
// buffers meanwhile. When the GPU has finished that work (the cell's own fence saw it, the GPU
// clock did not), the fence should come back at once; but lavapipe backs a new readback buffer
// with memory on its first map, and the fence comes back only after that. The wait was then the
// set-up's, yet it was named "gpu:0 queue latency" (a first 64 MiB read: 124 ms of it, while its
// buffers took 230 ms to make and map, 92 ms shown as set-up). The cell times the staging buffers
// the device makes (and each readback buffer's first map) by wrapping its createBuffer, and fences
// the GPU itself before the read.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadavg } from 'node:os';
import { OWN_GPU_SETUP, runOk, theReport, useReportKernel, type ReportTransfer, TIMED_STAGING_BUFFERS, seenIn } from '../support/report';

/** From here on each 8 MiB buffer the device makes is timed, and a readback one's first map. */
const TIMED_BUFFERS = [
  ...TIMED_STAGING_BUFFERS,
  'const unionOf = (spans: number[][]) => { let total = 0, end = -Infinity; for (const [a, b] of [...spans].sort((x, y) => x[0]! - y[0]!)) { if (b! <= end) continue; total += b! - Math.max(a!, end); end = b!; } return total; };',
  '0',
].join('\n');

interface Measured { wall: number; made: number; madeMs: number }

/** A cell that runs `timed` and prints its wall time, and the staging buffers made (or first mapped) meanwhile and how long they took. */
function measuredCell(timed: string): string {
  return [
    'const madeFrom = made.length; const t0 = performance.now();',
    timed,
    'const wall = performance.now() - t0, mine = made.slice(madeFrom);',
    'console.log(`measured ${JSON.stringify({ wall, made: mine.length, madeMs: unionOf(mine) })}`);',
  ].join('\n');
}

function partMs(move: ReportTransfer, cause: string): number {
  return move.waits.filter((wait) => wait.cause === cause).reduce((sum, wait) => sum + wait.ms, 0);
}

describe('inline report: a read whose fence waits for its own staging buffers', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up (one readback buffer made), staging buffers timed, 64 MiB computed and fenced', async () => {
    await runOk(kernel(), OWN_GPU_SETUP);
    await runOk(kernel(), TIMED_BUFFERS);
    await runOk(kernel(), 'const big = M.tile([64, 1]); submitOwnGpu(); await ownGpu.device.queue.onSubmittedWorkDone();');
  });

  test('the first 64 MiB read behind finished work: the buffers it waited for are staging set-up, not queue latency', async (t) => {
    const exchange = await runOk(kernel(), measuredCell('await big.data();'));
    const measured = seenIn<Measured>(exchange, 'measured');
    const report = theReport(exchange);
    const line = report.text.split('\n')[0]!;
    const reads = report.meta.transfers.filter((move) => move.direction === 'D2H');
    assert.equal(reads.length, 1, line);
    const read = reads[0]!;
    assert.equal(read.bytes, 64 * 2 ** 20, line);
    assert.ok(Math.abs(read.waitMs + read.copyMs - read.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(read)}`);
    const waitsMs = read.waits.reduce((sum, wait) => sum + wait.ms, 0);
    assert.ok(Math.abs(waitsMs - read.waitMs) < 0.01, `the waits add up to the wait: ${JSON.stringify(read.waits)}`);
    const setUp = partMs(read, 'staging-setup'), latency = partMs(read, 'gpu-latency'), hostBusy = partMs(read, 'host-busy');
    t.diagnostic(`wall ${measured.wall.toFixed(1)} ms, ${measured.made} buffers made or first mapped in ${measured.madeMs.toFixed(1)} ms; shown: set-up ${setUp.toFixed(1)}, `
      + `queue latency ${latency.toFixed(1)}, host busy ${hostBusy.toFixed(1)}, copy ${read.copyMs.toFixed(1)} of ${read.ms.toFixed(1)} ms (load ${loadavg()[0]!.toFixed(1)}): ${line}`);
    // The premise: the read made (and first mapped) readback buffers of its own.
    assert.ok(measured.made >= 2, `the read made no readback buffer: ${line}`);
    // The read was held up by its buffers (the 20% spares chunks copied on the GPU meanwhile).
    assert.ok(setUp + hostBusy >= 0.8 * measured.madeMs, `set-up (and host busy) show ${(setUp + hostBusy).toFixed(1)} ms; the read's buffers took ${measured.madeMs.toFixed(1)} ms to make and map: ${line}`);
    assert.ok(setUp <= measured.madeMs + 1, `set-up shows more than the ${measured.madeMs.toFixed(1)} ms the buffers took: ${line}`);
    // The fence came back as soon as the first buffer was backed: the queue itself added little.
    assert.ok(latency <= 0.25 * measured.madeMs, `queue latency ${latency.toFixed(1)} ms, on a GPU that had finished its work, while the read's buffers took ${measured.madeMs.toFixed(1)} ms: ${line}`);
  });
});

// Moves at once: every move's fence came back only after the first readback buffer was backed,
// whichever move it was for. A Promise.all of two 32 MiB reads and two 16 MiB uploads on empty pools,
// behind finished work, showed 211 ms of 'gpu:0 queue latency' in each of the four moves while the
// cell's own fence, started with them, came back when the first map ended.
describe('inline report: moves at once whose fences wait for another move\'s staging buffer', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up, staging buffers timed, two 32 MiB tensors computed and fenced, two of 16 MiB on the host', async () => {
    await runOk(kernel(), OWN_GPU_SETUP);
    await runOk(kernel(), TIMED_BUFFERS);
    await runOk(kernel(), [
      '%device cpu',
      'const up = tf.randomNormal([4 * 1024 * 1024]), up2 = tf.randomNormal([4 * 1024 * 1024]);',
      '%device gpu:0',
      'const a = M.tile([32, 1]), b = M.tile([32, 1]).add(1);',
      'submitOwnGpu(); await ownGpu.device.queue.onSubmittedWorkDone();',
    ].join('\n'));
  });

  test('two reads and two uploads at once: no move calls another\'s buffer set-up queue latency', async (t) => {
    const exchange = await runOk(kernel(), measuredCell("await Promise.all([a.data(), up.to('gpu:0'), b.data(), up2.to('gpu:0')]);"));
    const measured = seenIn<Measured>(exchange, 'measured');
    const report = theReport(exchange);
    const line = report.text.split('\n')[0]!;
    const moves = report.meta.transfers.filter((move) => move.bytes >= 2 ** 24);
    assert.equal(moves.length, 4, line);
    t.diagnostic(`wall ${measured.wall.toFixed(1)} ms, ${measured.made} buffers made or first mapped in ${measured.madeMs.toFixed(1)} ms; shown: `
      + moves.map((move) => `${move.direction} set-up ${partMs(move, 'staging-setup').toFixed(1)} latency ${partMs(move, 'gpu-latency').toFixed(1)} host busy ${partMs(move, 'host-busy').toFixed(1)} copy ${move.copyMs.toFixed(1)}`).join('; ')
      + ` (load ${loadavg()[0]!.toFixed(1)}): ${line}`);
    assert.ok(measured.made >= 2, `no staging buffer was made: ${line}`);
    for (const move of moves) {
      assert.ok(Math.abs(move.waitMs + move.copyMs - move.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(move)}`);
      assert.ok(Math.abs(move.waits.reduce((sum, wait) => sum + wait.ms, 0) - move.waitMs) < 0.01, `the waits add up to the wait: ${JSON.stringify(move.waits)}`);
      assert.ok(partMs(move, 'staging-setup') <= measured.madeMs + 1, `${move.direction} set-up shows more than the ${measured.madeMs.toFixed(1)} ms all buffers took: ${line}`);
      assert.ok(partMs(move, 'gpu-latency') <= 0.25 * measured.madeMs,
        `${move.direction} ${move.bytes} B: queue latency ${partMs(move, 'gpu-latency').toFixed(1)} ms on a GPU that had finished its work, while staging buffers took ${measured.madeMs.toFixed(1)} ms: ${line}`);
    }
  });
});

// Six reads at once on an empty readback pool: the first ones make the staging buffers, the last
// ones wait for them. That wait was named "gpu:0 queue latency" (94–96 ms each, where a read's
// latency is under a millisecond), the same window the first reads showed as set-up.
describe('inline report: reads waiting for staging buffers other reads are making', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up without a read, staging buffers timed, six 4 MiB tensors on gpu:0', async () => {
    await runOk(kernel(), "const warm = await tf.ones([4]).to('gpu:0');\n0");
    await runOk(kernel(), TIMED_BUFFERS);
    await runOk(kernel(), "const six = await Promise.all([0, 1, 2, 3, 4, 5].map(async () => await tf.randomNormal([1024, 1024]).to('gpu:0')));\n0");
  });

  test('each read\'s wait while other reads made the buffers is set-up, never queue latency of that size', async (t) => {
    const exchange = await runOk(kernel(), `const products = six.map((tensor) => tensor.mul(3));\n${measuredCell('await Promise.all(products.map((product) => product.data()));')}`);
    const measured = seenIn<Measured>(exchange, 'measured');
    const report = theReport(exchange);
    const reads = report.meta.transfers.filter((move) => move.direction === 'D2H');
    t.diagnostic(`measured ${JSON.stringify(measured)}; ${reads.map((read) => `latency ${partMs(read, 'gpu-latency').toFixed(1)} set-up ${partMs(read, 'staging-setup').toFixed(1)}`).join('; ')}`);
    assert.equal(reads.length, 6, JSON.stringify(report.meta.transfers));
    assert.ok(measured.made > 0 && measured.madeMs > 10, `precondition: the reads made their staging buffers (${JSON.stringify(measured)})`);
    for (const read of reads) {
      // A read's own round trip on this machine is about a millisecond; the buffers took madeMs to make.
      assert.ok(partMs(read, 'gpu-latency') < Math.max(15, 0.2 * measured.madeMs), `queue latency ${partMs(read, 'gpu-latency').toFixed(1)} ms while the buffers took ${measured.madeMs.toFixed(1)} ms to make: ${JSON.stringify(read.waits)}`);
      assert.ok(partMs(read, 'staging-setup') <= measured.madeMs + 2, `set-up ${partMs(read, 'staging-setup').toFixed(1)} ms, more than the ${measured.madeMs.toFixed(1)} ms the buffers took: ${JSON.stringify(read.waits)}`);
    }
  });
});
