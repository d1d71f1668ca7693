// A read's wait for GPU work goes through a fence: the GPU runs the work, then the driver signals
// the fence and Dawn's poll sees it. For a tiny op the work is a fraction of that round trip
// (lavapipe: ~0.1 ms of work in a 0.4–0.9 ms fence), and 500 tiny reads showed "208 ms gpu:0 GPU
// work" for 54.6 ms of GPU time. The cell brackets the work each read waits for with its own
// timestamp queries (an empty timed pass before the work, one after it, in the work's own
// submit): the GPU work
// the reads' waits show must be within that GPU time, the rest named as the queue's latency, and
// the parts must still add up to each wait.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { GPU_HANDLE, printedNumber } from '../support/gpu-cell';
import { deviceOf, runOk, theReport, useReportKernel, type ReportTransfer } from '../support/report';

const READS = 500;

/**
 * `bracket(i)`: tfjs's next submit carries, in the same submit, an empty timed pass before its
 * work and one after it (timestamps 2i and 2i + 1): one submit, so the GPU's gaps between submits
 * (part of what a fence waits for, not work) are not in the span. `stampedMs()`: the sum of the
 * spans, and how many were stamped.
 */
const STAMPS = [
  `const stampSet = gpu.device.createQuerySet({ type: "timestamp", count: ${2 * READS} });`,
  `const stampResolve = gpu.device.createBuffer({ size: ${16 * READS}, usage: 0x200 | 0x4 });`,
  `const stampRead = gpu.device.createBuffer({ size: ${16 * READS}, usage: 0x1 | 0x8 });`,
  'const stampPass = (index: number) => {',
  '  const encoder = gpu.device.createCommandEncoder();',
  '  encoder.beginComputePass({ timestampWrites: index % 2 === 0 ? { querySet: stampSet, beginningOfPassWriteIndex: index } : { querySet: stampSet, endOfPassWriteIndex: index } }).end();',
  '  return encoder.finish();',
  '};',
  'const tfQueue = (gpu as unknown as { queue: { submit(buffers: unknown[]): void } }).queue;',
  'const queueSubmit = tfQueue.submit.bind(tfQueue);',
  'let bracketAt = -1, bracketed = 0;',
  'tfQueue.submit = (buffers: unknown[]) => {',
  '  if (bracketAt < 0) return queueSubmit(buffers);',
  '  const at = bracketAt;',
  '  bracketAt = -1;',
  '  bracketed++;',
  '  queueSubmit([stampPass(at), ...buffers, stampPass(at + 1)]);',
  '};',
  'const bracket = (i: number) => { bracketAt = 2 * i; flushGpu(); bracketAt = -1; };',
  'const stampedMs = async () => {',
  '  const encoder = gpu.device.createCommandEncoder();',
  `  encoder.resolveQuerySet(stampSet, 0, ${2 * READS}, stampResolve, 0);`,
  `  encoder.copyBufferToBuffer(stampResolve, 0, stampRead, 0, ${16 * READS});`,
  '  gpu.device.queue.submit([encoder.finish()]);',
  '  await stampRead.mapAsync(1);',
  '  const stamps = new BigInt64Array(stampRead.getMappedRange());',
  '  let ms = 0;',
  `  for (let i = 0; i < ${READS}; i++) ms += Number(stamps[2 * i + 1]! - stamps[2 * i]!) / 1e6;`,
  '  stampRead.unmap();',
  '  return ms;',
  '};',
].join('\n');

function partsOf(read: ReportTransfer, cause: string): number {
  return read.waits.filter((wait) => wait.cause === cause).reduce((sum, wait) => sum + wait.ms, 0);
}

describe('inline report: a read\'s wait for GPU work is no longer than the GPU ran', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up, the add\'s pipeline compiled, the GPU seen idle', async () => {
    await runOk(kernel(), ['%device gpu:0', GPU_HANDLE, STAMPS, 'const x = tf.randomNormal([4096]);', 'await tf.sum(tf.mul(x, 1)).data();', 'await tf.sum(tf.mul(x, 2)).data();'].join('\n'));
  });

  test(`${READS} tiny reads in a loop: the GPU work their waits show is within the GPU time the cell stamped around that work`, async (t) => {
    const exchange = await runOk(kernel(), [
      'let awaited = 0;',
      `for (let i = 0; i < ${READS}; i++) {`,
      '  const y = tf.tidy(() => tf.sum(tf.mul(x, i)));',
      '  bracket(i);',
      '  const from = performance.now();',
      '  await y.data();',
      '  awaited += performance.now() - from;',
      '  y.dispose();',
      '}',
      'console.log(`stamped ${(await stampedMs()).toFixed(3)}`);',
      'console.log(`awaited ${awaited.toFixed(3)}`);',
      'console.log(`bracketed ${bracketed}`);',
    ].join('\n'));
    const stdout = streamText(exchange, 'stdout');
    const [stamped, awaited] = [printedNumber(stdout, 'stamped'), printedNumber(stdout, 'awaited')];
    assert.equal(printedNumber(stdout, 'bracketed'), READS, 'each read\'s work was submitted once, between the cell\'s stamps');
    const report = theReport(exchange);
    const reads = report.meta.transfers.filter((move) => move.direction === 'D2H' && move.bytes === 4);
    assert.equal(reads.length, READS, `one 4-byte readback per read: ${report.text}`);
    for (const read of reads) {
      assert.ok(Math.abs(read.waitMs + read.copyMs - read.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(read)}`);
      const parts = read.waits.reduce((sum, wait) => sum + wait.ms, 0);
      assert.ok(Math.abs(parts - read.waitMs) < 0.01, `the wait's parts add up to waitMs (${parts.toFixed(3)} vs ${read.waitMs.toFixed(3)}): ${JSON.stringify(read.waits)}`);
    }
    const sum = (pick: (read: ReportTransfer) => number): number => reads.reduce((total, read) => total + pick(read), 0);
    const gpuWork = sum((read) => partsOf(read, 'gpu-work'));
    const latency = sum((read) => partsOf(read, 'gpu-latency'));
    const waited = sum((read) => read.waitMs);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    t.diagnostic(`shown: waits ${waited.toFixed(1)} ms = GPU work ${gpuWork.toFixed(1)} ms + queue latency ${latency.toFixed(1)} ms + other ${(waited - gpuWork - latency).toFixed(1)} ms; reads ${sum((read) => read.ms).toFixed(1)} ms; GPU ${gpu?.ms.toFixed(1)} ms (${gpu?.source}); measured: the cell's timestamps around the work ${stamped.toFixed(1)} ms, its awaits ${awaited.toFixed(1)} ms`);
    assert.ok(gpu !== null && gpu.source === 'timestamps', `gpu:0 is timed by timestamps: ${report.text}`);
    // The cell's stamps hold the work and two empty passes: no less than the work alone.
    assert.ok(gpuWork <= stamped, `the reads' waits show ${gpuWork.toFixed(1)} ms of GPU work; the GPU ran that work (and the cell's stamps) in ${stamped.toFixed(1)} ms\n${report.text}`);
    assert.ok(stamped < 0.75 * waited, `the round trip must be well over the GPU's work to test this: the waits took ${waited.toFixed(1)} ms for ${stamped.toFixed(1)} ms of stamped GPU time`);
    assert.match(report.text, /gpu:0 queue latency/, report.text);
  });
});
