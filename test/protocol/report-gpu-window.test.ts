// A cell's GPU time is what the GPU ran during that cell. Work an earlier cell queued and left
// running ran partly between the cells; its times come back only with the next cell's read, and
// the next cell counted it whole: "GPU 4,242 ms" in a 4,152 ms cell. Here a cell queues seconds of
// GPU work and ends, the client waits a second between cells, and the next cell reads. The test
// measures for itself: the client's round trip of the next cell (an upper bound on its window), the
// client's pause between the cells (the GPU ran the work all through it: the cells' own fence says
// it was still running when the next cell's first line ran), how long the read waited, and how long
// the GPU took over the whole work (a fence of the cell's own, on a GPU that was idle before).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadavg } from 'node:os';
import { countOf, deviceOf, runOk, theReport, useReportKernel, OWN_GPU_SETUP, MATMULS_FOR_SECONDS, seenIn } from '../support/report';
import { sleep } from '../support/time';


const PAUSE_MS = 1000;

describe('inline report: a cell\'s GPU time is clipped to the cell', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up, idle', async () => {
    await runOk(kernel(), OWN_GPU_SETUP);
    await runOk(kernel(), 'await ownGpu.device.queue.onSubmittedWorkDone();');
    // How many matMuls make ~2.5 s of GPU work on this machine (it must outlast the pause and the next cell's start).
    await runOk(kernel(), [
      MATMULS_FOR_SECONDS,
    ].join('\n'));
  });

  test('work queued by a cell that ran on between the cells: the next cell shows only what ran during it, and names the rest as ran before it began', async (t) => {
    const queued = await runOk(kernel(), [
      'let q = M;',
      'const queuedFrom = performance.now();',
      'for (let i = 0; i < matMuls; i++) q = q.matMul(M).div(100);',
      'submitOwnGpu();',
      // The test's own measurement: the GPU was idle before, so this fence says when it finished this work.
      'const queuedDone = ownGpu.device.queue.onSubmittedWorkDone().then(() => performance.now());',
    ].join('\n'));
    const earlier = countOf(queued);
    const paused = performance.now();
    await sleep(PAUSE_MS);
    const sent = performance.now();
    const next = await runOk(kernel(), [
      'const first = performance.now();',
      'await q.slice([0, 0], [1, 1]).data();',
      'const readMs = performance.now() - first;',
      'const doneAt = await queuedDone;',
      'console.log(`seen ${JSON.stringify({ matMuls, readMs, workMs: doneAt - queuedFrom, runningAtFirstLine: doneAt > first, ownMs: performance.now() - first })}`);',
    ].join('\n'));
    const roundTrip = performance.now() - sent;
    const pause = sent - paused;
    const seen = seenIn<{ matMuls: number; readMs: number; workMs: number; runningAtFirstLine: boolean; ownMs: number }>(next, 'seen');
    const report = theReport(next);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    assert.ok(gpu !== null, report.text);
    t.diagnostic(`cell ${earlier}'s ${seen.matMuls} matMuls ${seen.workMs.toFixed(1)} ms (fence); pause ${pause.toFixed(1)} ms; next cell: round trip ${roundTrip.toFixed(1)} ms, report ${report.meta.durationMs.toFixed(1)} ms, `
      + `first to last line ${seen.ownMs.toFixed(1)} ms, read ${seen.readMs.toFixed(1)} ms; shown GPU ${gpu.ms.toFixed(1)} ms (${gpu.earlierCellsMs.toFixed(1)} queued by cells ${gpu.earlierCells.join(' ')}), `
      + `ran before ${String((gpu as { ranBeforeMs?: number }).ranBeforeMs?.toFixed(1))} ms (load ${loadavg()[0]!.toFixed(1)}) || ${report.text.split('\n')[0]}`);
    // The premise: the GPU was still running the work when the next cell began, after a pause it spent on it.
    assert.ok(seen.runningAtFirstLine && seen.readMs > 100, `cell ${earlier}'s work must outlast the pause to test this: ${JSON.stringify(seen)}`);
    // What ran during the cell is no more than the cell's time, by the report's own clock and by the client's.
    assert.ok(gpu.ms <= report.meta.durationMs && gpu.ms <= roundTrip,
      `the report shows GPU ${gpu.ms.toFixed(1)} ms in a ${report.meta.durationMs.toFixed(1)} ms cell (the client's round trip ${roundTrip.toFixed(1)} ms):\n${report.text}`);
    // The read waited for that work: it ran during the cell (GPU clock times passes only: 75%).
    assert.ok(gpu.earlierCells.includes(earlier) && gpu.earlierCellsMs >= 0.75 * seen.readMs,
      `the read waited ${seen.readMs.toFixed(1)} ms for cell ${earlier}'s work; the report shows ${gpu.earlierCellsMs.toFixed(1)} ms of it during the cell:\n${report.text}`);
    // The rest ran before the cell began, through the client's pause at least: named apart, not lost.
    assert.ok(gpu.ranBeforeCells.includes(earlier) && gpu.ranBeforeMs >= 0.75 * pause,
      `the GPU ran cell ${earlier}'s work through the ${pause.toFixed(1)} ms pause; the report names ${gpu.ranBeforeMs.toFixed(1)} ms as run before the cell:\n${report.text}`);
    assert.match(report.text, /more, queued by cell \d+, ran before this cell began/, report.text);
    // In all, the work shows once: no more than its fence, and most of it.
    const shown = gpu.earlierCellsMs + gpu.ranBeforeMs;
    assert.ok(shown >= 0.75 * seen.workMs && shown <= seen.workMs + 1,
      `cell ${earlier}'s work shows ${shown.toFixed(1)} ms in all; its fence took ${seen.workMs.toFixed(1)} ms:\n${report.text}`);
  });
  test('a %report off cell that waits for an earlier cell\'s work: that work\'s time shows with the next report, not nowhere', async (t) => {
    await runOk(kernel(), 'await ownGpu.device.queue.onSubmittedWorkDone();');
    const queued = await runOk(kernel(), [
      'let q2 = M;',
      'for (let i = 0; i < matMuls; i++) q2 = q2.matMul(M).div(100);',
      'submitOwnGpu();',
    ].join('\n'));
    const earlier = countOf(queued);
    const unreported = await runOk(kernel(), [
      '%report off',
      'const offFrom = performance.now();',
      'await q2.slice([0, 0], [1, 1]).data();',
      'console.log(`seen ${JSON.stringify({ readMs: performance.now() - offFrom })}`);',
    ].join('\n'));
    const seen = seenIn<{ readMs: number }>(unreported, 'seen');
    const next = await runOk(kernel(), ['%report compact', 'await M.slice([0, 0], [1, 1]).data();'].join('\n'));
    const report = theReport(next);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    assert.ok(gpu !== null, report.text);
    t.diagnostic(`the unreported cell's read waited ${seen.readMs.toFixed(1)} ms for cell ${earlier}'s work; the next report: ${report.text.split('\n')[0]}`);
    assert.ok(seen.readMs > 100, `cell ${earlier}'s work must outlast the unreported cell's start to test this: ${JSON.stringify(seen)}`);
    // The unreported cell showed nothing: the work its read waited for ran before the next cell began, and is named there.
    assert.ok(gpu.ranBeforeCells.includes(earlier) && gpu.ranBeforeMs >= 0.75 * seen.readMs,
      `the unreported cell's read waited ${seen.readMs.toFixed(1)} ms for cell ${earlier}'s work; the next report names ${gpu.ranBeforeMs.toFixed(1)} ms of it:\n${report.text}`);
  });
});
