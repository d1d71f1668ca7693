// GPU work queued in a `%report off` cell is still the GPU's work: a later cell whose read waits
// for it must say whose it was. With the clock stopped while the report was off, that work went
// untimed, and the next cell's read, which waited for it, called the wait its own: "wait 1290 ms
// … queued by cell 5 + 2395 ms gpu:0 GPU work", where the 2395 ms was the unreported cell's, and
// the reports' GPU time came to 2934 ms against 5407 ms measured by a fence. Here an unreported
// cell queues seconds of matMuls (unread), and the next cell, reported, reads a small tensor at
// once. The test measures for itself: the unreported cell's fence (on a GPU idle before it) says
// how long the GPU took over that work and when it finished; the next cell's own clock says how
// long its read waited and how much of that the work still ran.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadavg } from 'node:os';
import { assertNoReport, countOf, deviceOf, runOk, theReport, useReportKernel, OWN_GPU_SETUP, MATMULS_FOR_SECONDS, seenIn } from '../support/report';

describe('inline report: GPU work queued while %report was off', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up, idle', async () => {
    await runOk(kernel(), OWN_GPU_SETUP);
    await runOk(kernel(), 'await ownGpu.device.queue.onSubmittedWorkDone();');
    // How many matMuls make ~2.5 s of GPU work on this machine (it must outlast the next cell's start).
    await runOk(kernel(), [
      MATMULS_FOR_SECONDS,
      'await ownGpu.device.queue.onSubmittedWorkDone();',
    ].join('\n'));
  });

  test('a reported cell\'s read that waits for an unreported cell\'s work names that cell, and does not count the work as its own', async (t) => {
    const offCode = [
      '%report off',
      'let q = M;',
      'const queuedFrom = performance.now();',
      'for (let i = 0; i < matMuls; i++) q = q.matMul(M).div(100);',
      // What tfjs still holds, submitted (none when its last batch was full).
      'submitOwnGpu();',
      // The test's own measurement: the GPU was idle before, so this fence says when it finished this work.
      'const queuedDone = ownGpu.device.queue.onSubmittedWorkDone().then(() => performance.now());',
    ].join('\n');
    const unreported = await runOk(kernel(), offCode);
    assertNoReport(unreported, offCode);
    const off = countOf(unreported);
    const next = await runOk(kernel(), [
      '%report full',
      'const first = performance.now();',
      'await M.slice([0, 0], [1, 1]).data();',
      'const readMs = performance.now() - first;',
      'const doneAt = await queuedDone;',
      'console.log(`seen ${JSON.stringify({ matMuls, readMs, workMs: doneAt - queuedFrom, stillRunningMs: doneAt - first })}`);',
    ].join('\n'));
    const seen = seenIn<{ matMuls: number; readMs: number; workMs: number; stillRunningMs: number }>(next, 'seen');
    const report = theReport(next);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    assert.ok(gpu !== null, report.text);
    const read = report.meta.transfers.find((move) => move.direction === 'D2H');
    assert.ok(read !== undefined, report.text);
    const gpuWork = read.waits.filter((wait) => wait.cause === 'gpu-work');
    const namedMs = gpuWork.filter((wait) => wait.earlierCells.includes(off)).reduce((sum, wait) => sum + wait.ms, 0);
    const ownMs = gpuWork.filter((wait) => wait.earlierCells.length === 0).reduce((sum, wait) => sum + wait.ms, 0);
    t.diagnostic(`unreported cell ${off}: ${seen.matMuls} matMuls, ${seen.workMs.toFixed(1)} ms (fence), still running ${seen.stillRunningMs.toFixed(1)} ms into the next cell; `
      + `its read ${seen.readMs.toFixed(1)} ms: wait named for cell ${off} ${namedMs.toFixed(1)} ms, own GPU work ${ownMs.toFixed(1)} ms; `
      + `GPU ${gpu.ms.toFixed(1)} ms (${gpu.earlierCellsMs.toFixed(1)} queued by cells ${gpu.earlierCells.join(' ')}), ran before ${gpu.ranBeforeMs.toFixed(1)} ms `
      + `(load ${loadavg()[0]!.toFixed(1)}) || ${report.text.split('\n')[0]}`);
    // The premise: the unreported cell's work was still running when the next cell read, and the read waited for it.
    assert.ok(seen.stillRunningMs > 100 && seen.readMs >= seen.stillRunningMs, `cell ${off}'s work must outlast the next cell's start to test this: ${JSON.stringify(seen)}`);
    // The read's wait is for the unreported cell's work, named so (the GPU clock times passes only: 75%).
    assert.ok(namedMs >= 0.75 * seen.stillRunningMs,
      `the read waited ${seen.stillRunningMs.toFixed(1)} ms for cell ${off}'s work; the report names ${namedMs.toFixed(1)} ms of its wait for cell ${off}:\n${report.text}`);
    assert.match(report.text, new RegExp(`GPU work queued by cell ${off}\\b`), report.text);
    // None of it is the reading cell's own: its own work is one slice.
    assert.ok(ownMs <= 0.25 * seen.stillRunningMs,
      `the read shows ${ownMs.toFixed(1)} ms of its own cell's GPU work, of a wait that was ${seen.stillRunningMs.toFixed(1)} ms for cell ${off}'s:\n${report.text}`);
    assert.ok(gpu.ms - gpu.earlierCellsMs <= 0.25 * seen.stillRunningMs,
      `the cell's own GPU time is ${(gpu.ms - gpu.earlierCellsMs).toFixed(1)} ms; it ran one slice while cell ${off}'s work ran ${seen.stillRunningMs.toFixed(1)} ms:\n${report.text}`);
    // The work's GPU time is not lost: during the cell, queued by the unreported cell, and the rest before the cell began.
    assert.ok(gpu.earlierCells.includes(off) && gpu.earlierCellsMs >= 0.75 * seen.stillRunningMs,
      `cell ${off}'s work ran ${seen.stillRunningMs.toFixed(1)} ms into the cell; the report shows ${gpu.earlierCellsMs.toFixed(1)} ms queued by it:\n${report.text}`);
    const shown = gpu.earlierCellsMs + gpu.ranBeforeMs;
    assert.ok(shown >= 0.75 * seen.workMs && shown <= seen.workMs + 1,
      `cell ${off}'s work shows ${shown.toFixed(1)} ms in all; its fence took ${seen.workMs.toFixed(1)} ms:\n${report.text}`);
  });
});
