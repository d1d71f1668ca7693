// A cell that queued no GPU work of its own while the GPU was still running an earlier cell's: its
// report says whose work kept the GPU busy (busyWithOthers) and gives its own GPU time (none), not
// "not measured yet"; once the GPU is idle again, a cell says nothing of the kind. The cells take
// their own measurement: a fence issued right after the cell (how long the GPU still had work).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { countOf, deviceOf, OWN_GPU_SETUP, runOk, theReport, useReportKernel } from '../support/report';

/** How long a fence issued now waits: the GPU's work still queued, as the cell sees it. */
const FENCE_CELL = 'const fencedFrom = performance.now();\nawait ownGpu.device.queue.onSubmittedWorkDone();\nconsole.log(`fence ${performance.now() - fencedFrom}`);';
/** A fence on an idle GPU (lavapipe, a loaded two-core machine) returns well within this; the earlier cell's forty matMuls take seconds. */
const BUSY_FENCE_MS = 50;

describe('inline report: a cell without GPU work of its own, the GPU busy with an earlier cell\'s', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up', async () => {
    await runOk(kernel(), OWN_GPU_SETUP);
  });

  test('a cpu cell right after forty matMuls were submitted names the cell whose work is running; after a fence, nothing', async (t) => {
    const queued = await runOk(kernel(), 'let queuedWork = M;\nfor (let i = 0; i < 40; i++) queuedWork = queuedWork.matMul(M).div(100);\nsubmitOwnGpu();');
    const queuedBy = countOf(queued);
    assert.ok(deviceOf(theReport(queued), 'gpu:0').gpu?.stillBusy, theReport(queued).text);

    const cpuCell = await runOk(kernel(), '%device cpu\nawait tf.tensor([1, 2, 3]).add(1).data();');
    const fence = Number(/fence ([\d.]+)/.exec(streamText(await runOk(kernel(), FENCE_CELL), 'stdout'))![1]);
    const report = theReport(cpuCell);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    t.diagnostic(`fence after the cpu cell waited ${fence.toFixed(1)} ms; gpu:0 in its report: ${JSON.stringify(gpu)} || ${report.text.split('\n')[0]}`);
    assert.ok(fence >= BUSY_FENCE_MS, `precondition: the GPU was still busy with cell ${queuedBy}'s work after the cpu cell (a fence then waited ${fence.toFixed(1)} ms)`);
    assert.ok(gpu !== null, report.text);
    assert.equal(gpu.stillBusy, true, JSON.stringify(gpu));
    assert.deepEqual(gpu.busyWithOthers, [queuedBy], `the work still running was cell ${queuedBy}'s: ${JSON.stringify(gpu)}`);
    assert.equal(gpu.ms, 0, 'the cell queued no GPU work: its own GPU time is none');
    assert.doesNotMatch(report.text, /not measured yet/, report.text);

    const idleCell = await runOk(kernel(), 'await tf.tensor([4, 5]).add(1).data();');
    const idle = deviceOf(theReport(idleCell), 'gpu:0').gpu;
    assert.ok(idle === null || (!idle.stillBusy && idle.busyWithOthers === undefined), `the GPU was idle (a fence had returned): ${JSON.stringify(idle)}`);
    await runOk(kernel(), '%device gpu:0');
  });
});
