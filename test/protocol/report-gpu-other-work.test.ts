// GPU work that an earlier cell's timer, or detached work, queues while a later cell runs is not
// that cell's: its report named 157 ms of an earlier cell's timer's matMuls as its own GPU time (a
// cell that ran no GPU op), and 185-639 ms of detached work, which no report counts. The work
// measures itself: its own clock from its first op to its read's return, and the cell it ran in
// says what it did on the GPU (a host op only).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countOf, deviceOf, OWN_GPU_SETUP, runOk, seenIn, theReport, useReportKernel } from '../support/report';

/** A few of M's matMuls and a read of one element: `work` gets its own wall time, from the first op to the read's return. */
const TIMED_WORK = [
  'const from = performance.now(); let m = M;',
  'for (let i = 0; i < 4; i++) m = m.matMul(M).div(100);',
  'await m.slice([0, 0], [1, 1]).data();',
  'work.ms = performance.now() - from; work.done = true;',
].join(' ');

/** Waits (off the GPU) until the work is done, then runs one op tfjs keeps on the host, and prints the work's own time. */
const LATER_CELL = [
  'while (!work.done) await new Promise((resolve) => setTimeout(resolve, 20));',
  'await tf.tensor([1, 2, 3]).add(1).data();',
  'console.log(`measured ${JSON.stringify({ workMs: work.ms })}`);',
].join('\n');

describe('inline report: GPU work queued by other cells\' code while a cell runs', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up', async () => {
    await runOk(kernel(), OWN_GPU_SETUP);
  });

  test('an earlier cell\'s timer: its GPU time is named as that cell\'s, not the running cell\'s own', async (t) => {
    const started = await runOk(kernel(), `const work = { ms: 0, done: false };\nsetTimeout(async () => { ${TIMED_WORK} }, 300);\n1`);
    const later = await runOk(kernel(), LATER_CELL);
    const { workMs } = seenIn<{ workMs: number }>(later, 'measured');
    const report = theReport(later);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    t.diagnostic(`the timer's work took ${workMs.toFixed(1)} ms by its own clock; the later cell's gpu:0: ${JSON.stringify(gpu)} || ${report.text.split('\n')[0]}`);
    assert.ok(gpu !== null, report.text);
    const ownMs = gpu.ms - gpu.earlierCellsMs;
    assert.ok(ownMs <= 0.1 * workMs + 2, `the later cell ran no GPU op, yet shows ${ownMs.toFixed(1)} ms of GPU time of its own; the earlier cell's timer's work took ${workMs.toFixed(1)} ms: ${report.text}`);
    assert.ok(gpu.earlierCells.includes(countOf(started)), `the GPU time is the timer's cell's (${countOf(started)}): ${JSON.stringify(gpu)}`);
    assert.ok(gpu.earlierCellsMs <= 1.05 * workMs + 5, `the timer's work shows ${gpu.earlierCellsMs.toFixed(1)} ms of GPU time; it took ${workMs.toFixed(1)} ms by its own clock: ${report.text}`);
  });

  test('detached work: counted in no report, and said apart', async (t) => {
    await runOk(kernel(), `const work = { ms: 0, done: false };\ndetach(() => setTimeout(async () => { ${TIMED_WORK} }, 300));\n1`);
    const later = await runOk(kernel(), LATER_CELL);
    const { workMs } = seenIn<{ workMs: number }>(later, 'measured');
    const report = theReport(later);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    t.diagnostic(`the detached work took ${workMs.toFixed(1)} ms by its own clock; the later cell's gpu:0: ${JSON.stringify(gpu)} || ${report.text.split('\n')[0]}`);
    assert.ok(gpu !== null, report.text);
    assert.ok(gpu.ms <= 0.1 * workMs + 2, `the later cell ran no GPU op, yet shows ${gpu.ms.toFixed(1)} ms of GPU time; the detached work took ${workMs.toFixed(1)} ms: ${report.text}`);
    assert.ok(gpu.ranBeforeMs <= 0.1 * workMs + 2, `detached work shown as earlier cells' (${gpu.ranBeforeMs.toFixed(1)} ms): ${JSON.stringify(gpu)}`);
    const detachedMs = gpu.detachedMs ?? 0;
    assert.ok(detachedMs > 0 && detachedMs <= 1.05 * workMs + 5, `detached work's GPU time shown apart: ${detachedMs.toFixed(1)} ms; it took ${workMs.toFixed(1)} ms by its own clock: ${report.text}`);
    assert.match(report.text, /more ran for detached work, not counted/, report.text);
    assert.doesNotMatch(report.text, /cell 0\b/, report.text);
  });
});
