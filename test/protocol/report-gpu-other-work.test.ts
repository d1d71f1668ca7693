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

  // tfjs batches recorded ops until it submits: a timer's 4 matMuls left in the batch, the cell's own
  // 20 joined it, and the clock named the whole batch for the timer's cell (553 ms of its 882 ms
  // "queued by cell 4"; its own 20 take 855 ms alone). %%profile listed the timer's ops as the cell's.
  test('an earlier cell\'s ops and the cell\'s own in one of tfjs\'s batches: each cell gets its own part, and %%profile lists the cell\'s ops only', async (t) => {
    const alone = await runOk(kernel(), [
      'const aloneFrom = performance.now(); let aloneM = M;',
      'for (let i = 0; i < 8; i++) aloneM = aloneM.matMul(M).div(100);',
      'await aloneM.slice([0, 0], [1, 1]).data();',
      'console.log(`measured ${JSON.stringify({ aloneMs: performance.now() - aloneFrom })}`);',
    ].join('\n'));
    const { aloneMs } = seenIn<{ aloneMs: number }>(alone, 'measured');
    // Recorded, not submitted: the timer's ops wait in tfjs's batch for the next cell's.
    const started = await runOk(kernel(), 'const held = { m: M };\nsetTimeout(() => { for (let i = 0; i < 4; i++) held.m = held.m.matMul(M).div(100); }, 100);\n1');
    const mixed = await runOk(kernel(), [
      '%%profile',
      'await new Promise((resolve) => setTimeout(resolve, 300));',
      'let mineM = M;',
      'for (let i = 0; i < 8; i++) mineM = mineM.matMul(M).div(100);',
      'await mineM.slice([0, 0], [1, 1]).data();',
    ].join('\n'));
    const report = theReport(mixed);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    t.diagnostic(`8 matMuls alone took ${aloneMs.toFixed(1)} ms; mixed with the timer's 4: ${JSON.stringify(gpu)} || ${report.text.split('\n')[0]}`);
    assert.ok(gpu !== null, report.text);
    const ownMs = gpu.ms - gpu.earlierCellsMs;
    assert.ok(ownMs >= 0.6 * aloneMs, `the cell's own 8 matMuls show ${ownMs.toFixed(1)} ms; alone they took ${aloneMs.toFixed(1)} ms: ${report.text}`);
    assert.ok(gpu.earlierCells.includes(countOf(started)) && gpu.earlierCellsMs <= 0.8 * aloneMs,
      `the timer's 4 show ${gpu.earlierCellsMs.toFixed(1)} ms for cells ${gpu.earlierCells}; 8 alone took ${aloneMs.toFixed(1)} ms: ${report.text}`);
    const matMuls = (report.meta.profile ?? []).filter((row) => row.op === 'BatchMatMul');
    assert.deepEqual(matMuls.map((row) => row.calls), [8], `%%profile lists the cell's 8 matMuls, not the timer's 4 too: ${JSON.stringify(report.meta.profile)}`);
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
