// A read queued behind another move's chunks waits for the GPU to copy them (GPU work, though no
// compute pass of tfjs's stamps it), and for the thread, which copies a read's landed chunks into
// host memory meanwhile and sees the fence end only after that. A 4-byte read behind another read's
// 32 MiB chunks showed "195.4 ms gpu:0 queue latency" of a 195.5 ms fence, and one behind an
// upload's chunks skipped its fence (the GPU clock sees only tfjs's submits) and showed its 463 ms
// wait as its copy; after its fence, the thread copying the big read's chunks was still called the
// small read's copy. The cell fences the GPU itself, started with the tiny read, and compares.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadavg } from 'node:os';
import type { Exchange } from '../support/kernel-client';
import { OWN_GPU_SETUP, type ReportTransfer, runOk, seenIn, theReport, useReportKernel } from '../support/report';

function partMs(move: ReportTransfer, cause: string): number {
  return move.waits.filter((wait) => wait.cause === cause).reduce((sum, wait) => sum + wait.ms, 0);
}

/** The report's one 4-byte read, checked to add up. */
function tinyRead(transfers: readonly ReportTransfer[], line: string): ReportTransfer {
  const reads = transfers.filter((move) => move.direction === 'D2H' && move.bytes === 4);
  assert.equal(reads.length, 1, line);
  const read = reads[0]!;
  assert.ok(Math.abs(read.waitMs + read.copyMs - read.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(read)}`);
  assert.ok(Math.abs(read.waits.reduce((sum, wait) => sum + wait.ms, 0) - read.waitMs) < 0.01, `the waits add up to the wait: ${JSON.stringify(read.waits)}`);
  return read;
}

/** A cell's own measurement (`own {...}` on stdout), its report's first line, and its one 4-byte read. */
function tinyReadCell<Own = { tiny: number; fence: number }>(exchange: Exchange): { own: Own; report: ReturnType<typeof theReport>; line: string; read: ReportTransfer } {
  const own = seenIn<Own>(exchange, 'own');
  const report = theReport(exchange);
  const line = report.text.split('\n')[0]!;
  return { own, report, line, read: tinyRead(report.meta.transfers, line) };
}

describe('inline report: a read queued behind another move\'s chunk copies', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warm, 64 MiB on the GPU and two of 64 MiB on the host, both staging pools warm', async () => {
    await runOk(kernel(), OWN_GPU_SETUP);
    await runOk(kernel(), [
      '%device cpu',
      'const up = tf.randomNormal([16 * 1024 * 1024]), warmUp = tf.randomNormal([16 * 1024 * 1024]);',
      '%device gpu:0',
      "const warmed = await warmUp.to('gpu:0');",
      'const big = M.tile([64, 1]); await big.add(0).data();',
      'const smalls = [1, 2, 3, 4].map((i) => M.slice([i, 0], [1, 1]).square());',
      'submitOwnGpu(); await ownGpu.device.queue.onSubmittedWorkDone();',
    ].join('\n'));
  });

  test('behind another read\'s 64 MiB of chunks: the wait is GPU work and the thread copying them, not queue latency', async (t) => {
    const exchange = await runOk(kernel(), [
      'const small = M.slice([7, 0], [1, 1]).square(); const big1 = big.add(1);',
      'submitOwnGpu(); await ownGpu.device.queue.onSubmittedWorkDone();',
      'const bigRead = big1.data(); await 0;',
      'const f = performance.now(); const fence = ownGpu.device.queue.onSubmittedWorkDone().then(() => performance.now() - f);',
      'await small.data(); const tiny = performance.now() - f; await bigRead;',
      'console.log(`own ${JSON.stringify({ tiny, fence: await fence })}`);',
    ].join('\n'));
    const { own, report, line, read } = tinyReadCell(exchange);
    const work = partMs(read, 'gpu-work'), latency = partMs(read, 'gpu-latency'), hostBusy = partMs(read, 'host-busy');
    const bigWaits = report.meta.transfers.filter((move) => move.bytes === 64 * 2 ** 20).map((move) => JSON.stringify(move.waits));
    t.diagnostic(`own fence ${own.fence.toFixed(1)} ms, the read ${own.tiny.toFixed(1)} ms; shown: wait ${read.waitMs.toFixed(1)} (GPU work ${work.toFixed(1)}, `
      + `host busy ${hostBusy.toFixed(1)}, queue latency ${latency.toFixed(1)}), copy ${read.copyMs.toFixed(1)}; the big read's waits ${bigWaits.join(' ')} (load ${loadavg()[0]!.toFixed(1)}): ${line}`);
    // The premise: the fence waited for the big read's chunks (the GPU had finished the cell's ops).
    assert.ok(own.fence >= 20, `the fence came back in ${own.fence.toFixed(1)} ms: no chunk copy to wait for`);
    assert.ok(latency <= 0.25 * own.fence, `queue latency ${latency.toFixed(1)} ms of a fence of ${own.fence.toFixed(1)} ms that waited for another read's chunks: ${line}`);
    assert.ok(work + hostBusy >= 0.75 * own.fence, `GPU work ${work.toFixed(1)} + host busy ${hostBusy.toFixed(1)} ms of a fence of ${own.fence.toFixed(1)} ms that waited for another read's chunks: ${line}`);
    // Its copy may also queue behind chunks the big read submitted after the fence began: GPU work
    // too, but never more than the read took.
    assert.ok(work <= own.tiny + 1, `GPU work ${work.toFixed(1)} ms in a read of ${own.tiny.toFixed(1)} ms: ${line}`);
    // After its fence the thread went on copying the big read's chunks before it saw the small
    // read's map come back: that is host busy, not the copy of 4 bytes (it showed copy 129–179 ms
    // of reads of 326–372 ms, the big read's chunks taking ~300 ms of thread). Waiting for a staging
    // buffer the big read held is not its copy either (it showed 16–40 ms). Left in the copy: the
    // thread stalled where nothing says why (a collection after the big read's 64 MiB array, the
    // machine's other threads), 0.6–1.8 ms mostly, 13–29 ms in 4 of 14 runs on 2 cores.
    assert.ok(read.copyMs <= 0.2 * own.tiny, `copy ${read.copyMs.toFixed(1)} ms of a 4-byte read of ${own.tiny.toFixed(1)} ms behind another read's chunks: ${line}`);
  });

  // Both reads' fences end while the cell's loop holds the thread; the small read's continuation
  // then runs after the big read's chunk copying queued in the same turn, later than the poll
  // that saw its fence end: its wait showed the loop as "gpu:0 queue latency 1002 ms" (the big
  // read's, as host busy).
  test('a 64 MiB read and a 4-byte read, then a 1 s host loop: the loop is host busy for both, not queue latency', async (t) => {
    const exchange = await runOk(kernel(), [
      'const big2 = big.add(2), small2 = smalls[1]!.add(1); submitOwnGpu(); await ownGpu.device.queue.onSubmittedWorkDone();',
      'const p1 = big2.data(), p2 = small2.data();',
      'const t0 = performance.now(); while (performance.now() - t0 < 1000) { /* the cell\'s own host work */ }',
      'const loop = performance.now() - t0; await Promise.all([p1, p2]);',
      'console.log(`own ${JSON.stringify({ loop })}`);',
    ].join('\n'));
    const { own, line, read } = tinyReadCell<{ loop: number }>(exchange);
    const latency = partMs(read, 'gpu-latency'), hostBusy = partMs(read, 'host-busy');
    t.diagnostic(`loop ${own.loop.toFixed(1)} ms; shown for the 4-byte read: host busy ${hostBusy.toFixed(1)}, queue latency ${latency.toFixed(1)}, `
      + `waits ${JSON.stringify(read.waits)} (load ${loadavg()[0]!.toFixed(1)}): ${line}`);
    assert.ok(latency <= 0.1 * own.loop, `queue latency ${latency.toFixed(1)} ms for a read held by a ${own.loop.toFixed(1)} ms host loop: ${line}`);
    assert.ok(hostBusy >= 0.8 * own.loop, `host busy ${hostBusy.toFixed(1)} ms for a read held by a ${own.loop.toFixed(1)} ms host loop: ${line}`);
  });

  // The cell's own code in a `.then` on a fence of its own, registered before the read's, runs in
  // the jobs of the poll that saw the GPU finish, ahead of the read's continuation: a read behind a
  // 400 ms `.then` showed it as "gpu:0 queue latency 401 ms".
  test('a read behind the cell\'s own 400 ms .then on a fence that ends with it: host busy, not queue latency', async (t) => {
    const exchange = await runOk(kernel(), [
      'let h = M; for (let i = 0; i < 6; i++) h = h.matMul(M).div(100); const heavy = h.slice([0, 0], [1, 1]);',
      'submitOwnGpu(); let loop = 0;',
      'const mine = ownGpu.device.queue.onSubmittedWorkDone().then(() => { const t0 = performance.now(); while (performance.now() - t0 < 400) { /* the cell\'s own host work */ } loop = performance.now() - t0; });',
      'await heavy.data(); await mine;',
      'console.log(`own ${JSON.stringify({ loop })}`);',
    ].join('\n'));
    const { own, line, read } = tinyReadCell<{ loop: number }>(exchange);
    const latency = partMs(read, 'gpu-latency'), hostBusy = partMs(read, 'host-busy');
    t.diagnostic(`loop ${own.loop.toFixed(1)} ms; shown: host busy ${hostBusy.toFixed(1)}, queue latency ${latency.toFixed(1)}, waits ${JSON.stringify(read.waits)} (load ${loadavg()[0]!.toFixed(1)}): ${line}`);
    assert.ok(latency <= 0.1 * own.loop, `queue latency ${latency.toFixed(1)} ms for a read held by the cell's ${own.loop.toFixed(1)} ms .then: ${line}`);
    assert.ok(hostBusy >= 0.8 * own.loop, `host busy ${hostBusy.toFixed(1)} ms for a read held by the cell's ${own.loop.toFixed(1)} ms .then: ${line}`);
  });

  // The read's last chunk lands and is copied into host memory in the jobs of one poll; the cell's
  // own code awaiting a fence of its own runs in the same jobs, before the read hands its values
  // back: a 4-byte read behind the cell's 500 ms loop there showed "copy 501 ms".
  test('a read whose values wait to be handed back behind the cell\'s own 500 ms loop: host busy, not its copy', async (t) => {
    const exchange = await runOk(kernel(), [
      'let h = M; for (let i = 0; i < 6; i++) h = h.matMul(M).div(100); const heavy = h.slice([0, 0], [1, 1]);',
      'const p = heavy.data(); submitOwnGpu(); await ownGpu.device.queue.onSubmittedWorkDone();',
      'const t0 = performance.now(); while (performance.now() - t0 < 500) { /* the cell\'s own host work */ } const loop = performance.now() - t0;',
      'await p;',
      'console.log(`own ${JSON.stringify({ loop })}`);',
    ].join('\n'));
    const { own, line, read } = tinyReadCell<{ loop: number }>(exchange);
    const hostBusy = partMs(read, 'host-busy');
    t.diagnostic(`loop ${own.loop.toFixed(1)} ms; shown: copy ${read.copyMs.toFixed(1)}, host busy ${hostBusy.toFixed(1)}, waits ${JSON.stringify(read.waits)} (load ${loadavg()[0]!.toFixed(1)}): ${line}`);
    assert.ok(read.copyMs <= 0.1 * own.loop, `copy ${read.copyMs.toFixed(1)} ms of 4 bytes held by the cell's ${own.loop.toFixed(1)} ms loop: ${line}`);
    assert.ok(hostBusy >= 0.8 * own.loop, `host busy ${hostBusy.toFixed(1)} ms for a read held by the cell's ${own.loop.toFixed(1)} ms loop: ${line}`);
  });

  test('behind an upload\'s 64 MiB of chunks: the read fences, and its wait is GPU work, not its copy', async (t) => {
    const exchange = await runOk(kernel(), [
      "const upload = up.to('gpu:0'); await new Promise((resolve) => setTimeout(resolve, 20));",
      'const f = performance.now(); const fence = ownGpu.device.queue.onSubmittedWorkDone().then(() => performance.now() - f);',
      'await smalls[0]!.data(); const tiny = performance.now() - f; await upload;',
      'console.log(`own ${JSON.stringify({ tiny, fence: await fence })}`);',
    ].join('\n'));
    const { own, line, read } = tinyReadCell(exchange);
    const work = partMs(read, 'gpu-work'), latency = partMs(read, 'gpu-latency');
    t.diagnostic(`own fence ${own.fence.toFixed(1)} ms, the read ${own.tiny.toFixed(1)} ms; shown: wait ${read.waitMs.toFixed(1)} (GPU work ${work.toFixed(1)}, queue latency ${latency.toFixed(1)}), `
      + `copy ${read.copyMs.toFixed(1)} (load ${loadavg()[0]!.toFixed(1)}): ${line}`);
    assert.ok(own.fence >= 20, `the fence came back in ${own.fence.toFixed(1)} ms: the upload's chunks had landed`);
    assert.ok(read.copyMs <= 0.25 * own.fence, `copy ${read.copyMs.toFixed(1)} ms of a 4-byte read whose fence waited ${own.fence.toFixed(1)} ms for an upload's chunks: ${line}`);
    assert.ok(work >= 0.75 * own.fence, `GPU work ${work.toFixed(1)} ms of a fence of ${own.fence.toFixed(1)} ms that waited for chunk copies: ${line}`);
    assert.ok(latency <= 0.25 * own.fence, `queue latency ${latency.toFixed(1)} ms of a fence of ${own.fence.toFixed(1)} ms that waited for chunk copies: ${line}`);
    assert.ok(work <= own.tiny + 1, `GPU work ${work.toFixed(1)} ms in a read of ${own.tiny.toFixed(1)} ms: ${line}`);
  });
});
