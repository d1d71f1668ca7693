// A cell whose read waited for its own GPU work, and which then queued more (or was interrupted in
// a loop of reads): its reads waited for its work, so that work ran inside the cell, and its GPU
// time is the cell's even though the GPU is still busy when the cell ends. The clock read every
// timestamp only when the cell ended, behind the work still queued: such a cell showed
// "GPU 0.0 µs (still busy at the end…)", and the next cell counted the read-for work as queued by it.
// The cells measure, independently of the kernel, how long their reads waited and how long the
// GPU took to finish what they left (a fence of their own); lavapipe runs the GPU's work on the
// host's threads, so a read's wait is mostly the GPU running the work it waited for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executeReply, streamText } from '../support/exchange';
import type { Exchange, KernelClient } from '../support/kernel-client';
import { okContent } from '../support/message-schema';
import { countOf, deviceOf, readReport, reportsOf, runOk, theReport, useReportKernel, OWN_GPU_SETUP, seenIn } from '../support/report';
import { sleep } from '../support/time';


/** Starts `code`, interrupts it `ms` after its first output, and checks it replied Interrupted. */
async function interruptAfter(kernel: KernelClient, code: string, ms: number): Promise<Exchange> {
  const running = kernel.startExecute(code, {}, { timeoutMs: 60_000 });
  await running.iopubMessage('stream');
  await sleep(ms);
  okContent((await kernel.request('control', 'interrupt_request', {}, { timeoutMs: 10_000 })).reply, 'interrupt_reply');
  const done = await running.done();
  const reply = executeReply(done);
  assert.equal(reply.status === 'error' ? reply.ename : reply.status, 'Interrupted');
  return done;
}

describe('inline report: a cell still busy at its end shows the GPU time its reads waited for', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up', async () => {
    await runOk(kernel(), OWN_GPU_SETUP);
  });

  // As written in a notebook (tfjs submits the forty in batches and holds the last), and with the forty all submitted.
  for (const [round, submitAll] of [[1, false], [2, true]] as const) {
    test(`round ${round}: four matMuls read, then forty queued${submitAll ? ' and submitted' : ''}: the four are the cell's GPU time; the next cell counts as queued by it only what ran after its read`, async (t) => {
      const exchange = await runOk(kernel(), [
        `let r${round} = M;`,
        `for (let i = 0; i < 4; i++) r${round} = r${round}.matMul(M);`,
        `const readFrom${round} = performance.now();`,
        `await r${round}.data();`,
        `const readEnded${round} = performance.now();`,
        `const readMs${round} = readEnded${round} - readFrom${round};`,
        `for (let i = 0; i < 40; i++) r${round} = r${round}.matMul(M);`,
        ...(submitAll ? ['submitOwnGpu();'] : []),
        `console.log(\`seen \${JSON.stringify({ readMs: readMs${round} })}\`);`,
      ].join('\n'));
      const { readMs } = seenIn<{ readMs: number }>(exchange, 'seen');
      const report = theReport(exchange);
      const cell = countOf(exchange);
      const gpu = deviceOf(report, 'gpu:0').gpu;
      assert.ok(gpu !== null, report.text);
      const own = gpu.ms - gpu.earlierCellsMs;
      const next = await runOk(kernel(), `await r${round}.slice([0, 0], [1, 1]).data();\nconsole.log(\`window \${performance.now() - readEnded${round}}\`);`);
      const window = Number(/window ([\d.]+)/.exec(streamText(next, 'stdout'))![1]);
      const after = deviceOf(theReport(next), 'gpu:0').gpu;
      // During the next cell, and before it began (after this cell's read, and between the cells): named apart, counted together here.
      const queuedBy = after === null ? 0 : (after.earlierCells.includes(cell) ? after.earlierCellsMs : 0) + (after.ranBeforeCells.includes(cell) ? after.ranBeforeMs : 0);
      t.diagnostic(`cell ${cell}: read ${readMs.toFixed(1)} ms, own GPU ${own.toFixed(1)} ms, still busy ${String(gpu.stillBusy)}, cell ${report.meta.durationMs.toFixed(1)} ms; `
        + `next: ${queuedBy.toFixed(1)} ms queued by it in a window of ${window.toFixed(1)} ms || ${report.text.split('\n')[0]}`);
      assert.ok(gpu.stillBusy, `the forty matMuls were still running when the cell ended: ${JSON.stringify(gpu)}`);
      // The read waited for the four matMuls: they ran in the cell, and their time is the cell's.
      assert.ok(own >= readMs / 2 && own <= report.meta.durationMs,
        `the read waited ${readMs.toFixed(1)} ms for the cell's own GPU work; the report shows ${own.toFixed(1)} ms of the cell's own GPU time in a ${report.meta.durationMs.toFixed(1)} ms cell:\n${report.text}`);
      assert.doesNotMatch(report.text, /GPU 0\.0 µs/, report.text);
      // What the next cell counts as queued by this one was submitted after its read returned (the
      // forty: the GPU began them while the cell still ran), so it ran between that and the end of
      // the next cell's read (2 ms for the clocks' offset).
      assert.ok(queuedBy > 0 && queuedBy <= window + 2,
        `the next cell counts ${queuedBy.toFixed(1)} ms as queued by cell ${cell}, in ${window.toFixed(1)} ms from the end of that cell's read to the end of the next's`);
    });
  }

  test('an interrupted loop of matMuls each read: the reads\' waits are the cell\'s GPU time', async (t) => {
    const exchange = await interruptAfter(kernel(), [
      'let acc = M;',
      'const loop = { reads: 0, readMs: 0 };',
      'console.log("looping");',
      'for (;;) {',
      '  acc = acc.matMul(M).matMul(M).div(100);',
      '  const from = performance.now();',
      '  await acc.data();',
      '  loop.readMs += performance.now() - from;',
      '  loop.reads++;',
      '}',
    ].join('\n'), 2000);
    const report = readReport(reportsOf(exchange).at(-1)!);
    const cell = countOf(exchange);
    const loop = seenIn<{ reads: number; readMs: number }>(await runOk(kernel(), 'console.log(`loop ${JSON.stringify(loop)}`);'), 'loop');
    const gpu = deviceOf(report, 'gpu:0').gpu;
    assert.ok(gpu !== null, report.text);
    const own = gpu.ms - gpu.earlierCellsMs;
    t.diagnostic(`cell ${cell}: ${JSON.stringify(loop)}; own GPU ${own.toFixed(1)} ms in a ${report.meta.durationMs.toFixed(1)} ms cell || ${report.text.split('\n')[0]}`);
    assert.ok(loop.reads >= 2, JSON.stringify(loop));
    assert.ok(own >= loop.readMs / 2 && own <= report.meta.durationMs,
      `${loop.reads} reads waited ${loop.readMs.toFixed(1)} ms in all for the cell's own GPU work; the report shows ${own.toFixed(1)} ms of its own GPU time in a ${report.meta.durationMs.toFixed(1)} ms cell:\n${report.text}`);
    assert.doesNotMatch(report.text, /GPU 0\.0 µs/, report.text);
  });

  test('work submitted and not read: its time is not yet measured (not 0), and it shows with the next cell that reports, past one that touches no tensor', async (t) => {
    // Whatever the tests before left running is waited for first.
    await runOk(kernel(), 'await M.slice([0, 0], [1, 1]).data();');
    const exchange = await runOk(kernel(), [
      'let q = M;',
      'for (let i = 0; i < 20; i++) q = q.matMul(M);',
      'submitOwnGpu();',
    ].join('\n'));
    const cell = countOf(exchange);
    const report = theReport(exchange);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    // The times of the cell before may come back only now (its end does not wait long for them): they are not this cell's.
    assert.ok(gpu !== null && gpu.stillBusy && gpu.ms - gpu.earlierCellsMs === 0, `nothing read: no times of its own back at the end: ${JSON.stringify(gpu)}`);
    // A cell that touches no tensor (no report) waits for the GPU with a fence of its own.
    const idle = await runOk(kernel(), 'const fenceFrom = performance.now();\nawait ownGpu.device.queue.onSubmittedWorkDone();\nconsole.log(`fence ${JSON.stringify({ ms: performance.now() - fenceFrom })}`);');
    assert.equal(reportsOf(idle).length, 0, 'a cell that touched no tensor has no report');
    const fence = seenIn<{ ms: number }>(idle, 'fence');
    const later = theReport(await runOk(kernel(), 'await M.slice([0, 0], [1, 1]).data();'));
    const shown = deviceOf(later, 'gpu:0').gpu;
    // It ran during the cell that touched no tensor, before the later cell began: named apart, not in that cell's GPU time.
    const queuedBy = shown !== null && shown.ranBeforeCells.includes(cell) ? shown.ranBeforeMs : 0;
    t.diagnostic(`cell ${cell}'s work: fence ${fence.ms.toFixed(1)} ms in the cell after; shown ${queuedBy.toFixed(1)} ms queued by it || ${later.text.split('\n')[0]}`);
    assert.ok(queuedBy >= fence.ms / 2,
      `the cell after cell ${cell} waited ${fence.ms.toFixed(1)} ms for its work; the next report shows ${queuedBy.toFixed(1)} ms queued by it as run before it began:\n${later.text}`);
    assert.ok(shown !== null && shown.ms <= later.meta.durationMs, `no more GPU time than the cell's own: ${JSON.stringify(shown)} in ${later.meta.durationMs.toFixed(1)} ms`);
    // At its own end nothing of it was known: not 0.
    if (gpu.ms === 0) assert.match(report.text, /GPU not measured yet \(still busy at the end/, report.text);
    assert.doesNotMatch(report.text, /GPU 0\.0 µs/, report.text);
  });
});
