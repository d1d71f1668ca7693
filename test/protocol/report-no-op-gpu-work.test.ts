// A cell that ran no op has no GPU work of its own. A read in such a cell waits for work an
// earlier cell queued; after the GPU's last pass of it, the fence still takes a moment to be seen
// ended, and that moment was shown as ~1–2 ms of "gpu:0 GPU work" of the reading cell's own. Each
// reading cell counts the compute passes recorded on gpu:0 while it runs (tfjs records every GPU
// op's dispatches in one), independently of the kernel: none; the report must show no GPU work of
// the cell's own, neither in the GPU column nor in what its read waited for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { countOf, deviceOf, runOk, theReport, useReportKernel } from '../support/report';

/** `passes()`: compute passes recorded on gpu:0 since the last call, counted on each encoder tfjs makes. */
const SETUP = [
  '%device gpu:0',
  'type CountedEncoder = { beginComputePass(descriptor?: object): unknown };',
  'const passDevice = (tf.engine() as unknown as { registry: Record<string, { device: { createCommandEncoder(descriptor?: object): CountedEncoder } }> }).registry["gpu:0"]!.device;',
  'let passCount = 0;',
  'const makeEncoder = passDevice.createCommandEncoder.bind(passDevice);',
  'passDevice.createCommandEncoder = (descriptor?: object) => {',
  '  const encoder = makeEncoder(descriptor);',
  '  const begin = encoder.beginComputePass.bind(encoder);',
  '  encoder.beginComputePass = (passDescriptor?: object) => { passCount++; return begin(passDescriptor); };',
  '  return encoder;',
  '};',
  'const passes = () => { const count = passCount; passCount = 0; return count; };',
  'const x = tf.randomNormal([384, 384]);',
  'await tf.matMul(x, x).data();',
].join('\n');

describe('inline report: a cell that ran no op shows no GPU work of its own', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up, compute passes counted', async () => {
    await runOk(kernel(), SETUP);
  });

  for (const round of [1, 2, 3]) {
    test(`round ${round}: a read of work the previous cell queued: all its GPU wait is that cell's, none the reading cell's own`, async () => {
      const queued = await runOk(kernel(), `const z${round} = tf.matMul(tf.matMul(x, x), x);\n0`);
      const queuedBy = countOf(queued);
      const exchange = await runOk(kernel(), `passes();\nawait z${round}.data();\nconsole.log(\`passes \${passes()}\`);`);
      const match = /passes (\d+)/.exec(streamText(exchange, 'stdout'));
      assert.ok(match !== null, streamText(exchange, 'stdout'));
      // The cell's own measurement: it recorded no GPU work (the read's copy is no compute pass).
      assert.equal(Number(match[1]), 0, 'the reading cell recorded compute passes of its own');
      const report = theReport(exchange);
      const gpu = deviceOf(report, 'gpu:0');
      assert.equal(gpu.ops, 0, report.text);
      if (gpu.gpu !== null) {
        assert.ok(gpu.gpu.ms - gpu.gpu.earlierCellsMs <= 0.001,
          `GPU ${gpu.gpu.ms.toFixed(3)} ms, of it ${gpu.gpu.earlierCellsMs.toFixed(3)} ms queued by earlier cells: the rest is shown as the cell's own\n${report.text}`);
      }
      const reads = report.meta.transfers.filter((move) => move.direction === 'D2H');
      assert.equal(reads.length, 1, report.text);
      const read = reads[0]!;
      const own = read.waits.filter((wait) => wait.cause === 'gpu-work' && wait.earlierCells.length === 0);
      assert.deepEqual(own.map((wait) => wait.ms), [], `the read's wait shows GPU work of the reading cell's own:\n${report.text}`);
      assert.doesNotMatch(report.text, /gpu:0 GPU work(?! queued)/, report.text);
      // The work it did wait for is named as the cell that queued it, and the parts add up.
      const earlier = read.waits.filter((wait) => wait.cause === 'gpu-work');
      assert.ok(earlier.every((wait) => wait.earlierCells.includes(queuedBy)), JSON.stringify(read.waits));
      const parts = read.waits.reduce((sum, wait) => sum + wait.ms, 0);
      assert.ok(Math.abs(parts - read.waitMs) <= 0.01, `the wait's parts come to ${parts.toFixed(3)} ms of ${read.waitMs.toFixed(3)} ms`);
    });
  }
});
