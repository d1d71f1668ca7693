// "Still busy at the end" only where the GPU was: work tfjs recorded but had not submitted when the
// cell ended (it submits in batches, or when something reads) ran after the cell, on a GPU that
// was idle. Each cell counts its own submits to gpu:0's queue and looks whether tfjs holds work.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { countOf, deviceOf, runOk, theReport, useReportKernel } from '../support/report';

/** `submitted()`: submits to gpu:0's queue since the last call; `holding()`: tfjs has recorded work it has not submitted. */
const SETUP = [
  '%device gpu:0',
  'const heldGpu = (tf.engine() as unknown as { registry: Record<string, { commandEncoder: unknown; queue: { submit(buffers: unknown[]): void }; endComputePassEncoder(): void; submitQueue(): void }> }).registry["gpu:0"]!;',
  'let submitCount = 0;',
  'const submitThrough = heldGpu.queue.submit.bind(heldGpu.queue);',
  'heldGpu.queue.submit = (buffers: unknown[]) => { submitCount++; submitThrough(buffers); };',
  'const submitted = () => { const count = submitCount; submitCount = 0; return count; };',
  'const holding = () => heldGpu.commandEncoder != null;',
  'const big = tf.randomNormal([1024, 1024]);',
  'await tf.matMul(big, big).slice([0, 0], [1, 1]).data();',
].join('\n');

describe('inline report: a GPU still busy at the end, or work tfjs had not submitted', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up, its queue\'s submits counted', async () => {
    await runOk(kernel(), SETUP);
  });

  test('four matMuls tfjs holds unsubmitted at the end: the GPU was idle, the report says the work was not submitted, not that the GPU was busy', async (t) => {
    const exchange = await runOk(kernel(), [
      'submitted();',
      'let acc = big;',
      'for (let i = 0; i < 4; i++) acc = tf.matMul(acc, big);',
      'console.log(`seen ${JSON.stringify({ submitted: submitted(), holding: holding() })}`);',
    ].join('\n'));
    const seen = JSON.parse(/seen (\{.*\})/.exec(streamText(exchange, 'stdout'))![1]!) as { submitted: number; holding: boolean };
    // What the GPU was given during the cell, seen by the cell itself: nothing; tfjs holds it all.
    assert.deepEqual(seen, { submitted: 0, holding: true });
    const report = theReport(exchange);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    t.diagnostic(`gpu: ${JSON.stringify(gpu)}; line: ${report.text.split('\n')[0]}`);
    assert.ok(gpu !== null);
    assert.equal(gpu.stillBusy, false, `nothing was submitted during the cell: the GPU was not busy at its end: ${JSON.stringify(gpu)}`);
    assert.equal(gpu.heldBack, true, `the work tfjs held is named: ${JSON.stringify(gpu)}`);
    assert.doesNotMatch(report.text, /still busy/, report.text);
    assert.match(report.text, /tfjs held its last work until the cell ended/, report.text);
  });

  test('control: the same four matMuls submitted during the cell: the GPU is still busy at the end, and the report says so', async (t) => {
    // What the first test's work left is waited for first.
    await runOk(kernel(), 'await acc.slice([0, 0], [1, 1]).data();');
    const exchange = await runOk(kernel(), [
      'submitted();',
      'let acc2 = big;',
      'for (let i = 0; i < 4; i++) acc2 = tf.matMul(acc2, big);',
      'heldGpu.endComputePassEncoder();',
      'heldGpu.submitQueue();',
      'console.log(`seen ${JSON.stringify({ submitted: submitted(), holding: holding() })}`);',
    ].join('\n'));
    const seen = JSON.parse(/seen (\{.*\})/.exec(streamText(exchange, 'stdout'))![1]!) as { submitted: number; holding: boolean };
    assert.ok(seen.submitted > 0 && !seen.holding, `the cell submitted its work: ${JSON.stringify(seen)}`);
    const report = theReport(exchange);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    // Whether the work outlasted the cell, by the GPU's own timestamps: the next cell's report counts it as queued by this one.
    const next = deviceOf(theReport(await runOk(kernel(), 'await acc2.slice([0, 0], [1, 1]).data();')), 'gpu:0').gpu;
    const outlasted = next !== null && next.earlierCells.includes(countOf(exchange));
    t.diagnostic(`gpu: ${JSON.stringify(gpu)}; line: ${report.text.split('\n')[0]}; next cell: ${JSON.stringify(next)}`);
    assert.ok(gpu !== null);
    assert.equal(gpu.heldBack, undefined, 'tfjs held nothing back');
    assert.equal(gpu.stillBusy, outlasted, `still busy at the end exactly when its work ran on after the cell: ${JSON.stringify(gpu)}`);
    if (outlasted) assert.match(report.text, /still busy at the end/, report.text);
  });
});
