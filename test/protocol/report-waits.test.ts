// A move's time split into the wait for work already queued on the GPU and the copy itself,
// checked against the cell's own onSubmittedWorkDone timing. The kernel runs with an empty Mesa
// shader cache, so lavapipe's first-time compiles are part of what is waited for (as a new user's
// first run of a notebook is).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { GPU_HANDLE, overlapMs, printedNumber } from '../support/gpu-cell';
import { countOf, deviceOf, REPORT_TIMEOUT_MS, runOk, theReport } from '../support/report';

describe('inline report: waits apart from copies (empty shader cache)', () => {
  const kernel = useKernel({ readyTimeoutMs: REPORT_TIMEOUT_MS, env: { MESA_SHADER_CACHE_DIR: mkdtempSync(path.join(tmpdir(), 'tsgpu-empty-shader-cache-')) } });

  test("the kernel's first readback names making its staging buffer as a wait, not as copy time", async () => {
    const report = theReport(await runOk(kernel(), "%device gpu:0\nconst first = tf.ones([4096]).mul(2);\nawait first.data();"));
    // The ones and the 2 were made on gpu:0 and uploaded at the mul (H2D, time not measured): the read is the one D2H.
    const reads = report.meta.transfers.filter((transfer) => transfer.direction === 'D2H');
    assert.equal(reads.length, 1, `one D2H: ${JSON.stringify(report.meta.transfers)}`);
    const move = reads[0]!;
    const setup = move.waits.find((wait) => wait.cause === 'staging-setup');
    assert.ok(setup !== undefined && setup.ms > 0 && setup.device === 'gpu:0', `the staging set-up is named as a wait: ${JSON.stringify(move)}`);
    assert.ok(Math.abs(move.waitMs + move.copyMs - move.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(move)}`);
    assert.match(report.text, /gpu:0 set-up \(new buffer\)/, 'the text names it');
  });

  test('4 bytes read after ≥ 300 ms of queued matMuls: copy under 20 ms, the wait is gpu:0 GPU work within 10% of the cell\'s own fence', async () => {
    const exchange = await runOk(kernel(), [
      'const a = tf.randomNormal([1024, 1024]);',
      'let c = a;',
      'for (let i = 0; i < 3; i++) c = tf.matMul(c, a);',
      'const tiny = c.slice([0, 0], [1, 1]);',
      GPU_HANDLE,
      'flushGpu();',
      'const t0 = performance.now();',
      // The test's own measurement: how long until the GPU has finished what is queued.
      'const fence = gpu.device.queue.onSubmittedWorkDone().then(() => performance.now() - t0);',
      'const values = await tiny.data();',
      'console.log(`fenced ${(await fence).toFixed(3)}`);',
    ].join('\n'));
    const fenced = printedNumber(streamText(exchange, 'stdout'), 'fenced');
    assert.ok(fenced >= 300, `the cell must queue at least 300 ms of GPU work to test this; it queued ${fenced} ms`);
    const report = theReport(exchange);
    const reads = report.meta.transfers.filter((move) => move.direction === 'D2H');
    assert.equal(reads.length, 1, `one readback: ${JSON.stringify(report.meta.transfers)}`);
    const read = reads[0]!;
    assert.equal(read.bytes, 4);
    assert.ok(read.copyMs < 20, `the 4-byte copy takes ${read.copyMs.toFixed(3)} ms (under 20 ms expected): ${JSON.stringify(read)}`);
    assert.ok(Math.abs(read.waitMs - fenced) <= 0.1 * fenced,
      `the wait is ${read.waitMs.toFixed(1)} ms; the cell's own onSubmittedWorkDone took ${fenced.toFixed(1)} ms (10% allowed)`);
    const gpuWork = read.waits.find((wait) => wait.cause === 'gpu-work');
    assert.ok(gpuWork !== undefined && gpuWork.device === 'gpu:0', `the wait is named as gpu:0 GPU work: ${JSON.stringify(read.waits)}`);
    // The GPU lane is busy while the read waits: its own clock says so. Not to 10%: with an empty
    // shader cache lavapipe sometimes signals the fence 1–2 s after the last pass's end timestamp
    // (work outside any pass the clock can time), which the fence counts and the clock cannot.
    const gpu = deviceOf(report, 'gpu:0').gpu;
    assert.ok(gpu !== null && gpu.source === 'timestamps', `gpu:0 has timestamp times: ${JSON.stringify(gpu)}`);
    const busy = overlapMs(gpu.spans, read.at, read.at + read.waitMs);
    assert.ok(busy >= 0.75 * fenced && busy <= read.waitMs + 1,
      `gpu:0 was busy ${busy.toFixed(1)} ms of the wait by its own clock; the cell's fence took ${fenced.toFixed(1)} ms (75–100% expected); `
      + `wait from ${read.at.toFixed(1)} for ${read.waitMs.toFixed(1)} ms, GPU busy ${JSON.stringify(gpu.spans.map(([start, end]) => [Math.round(start), Math.round(end)]))}`);
    assert.match(report.text, /wait [\d.]+ (ms|s) gpu:0 GPU work/, `the text shows the wait as gpu:0 GPU work: ${report.text}`);
  });

  test('work queued by an earlier cell is named as that cell\'s when a later read waits for it', async () => {
    const queued = await runOk(kernel(), 'let e = a;\nfor (let i = 0; i < 8; i++) e = tf.matMul(e, a);\nconst later = e.slice([0, 0], [1, 1]);\nflushGpu();');
    const earlier = countOf(queued);
    const report = theReport(await runOk(kernel(), 'await later.data();'));
    const [read] = report.meta.transfers;
    assert.ok(read !== undefined, 'one readback');
    const gpuWork = read.waits.find((wait) => wait.cause === 'gpu-work');
    assert.ok(gpuWork !== undefined && gpuWork.earlierCells.includes(earlier), `the wait names cell ${earlier}: ${JSON.stringify(read.waits)}`);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    assert.ok(gpu !== null && gpu.earlierCells.includes(earlier) && gpu.earlierCellsMs > 0, `gpu:0's time names cell ${earlier}'s work: ${JSON.stringify(gpu)}`);
    assert.match(report.text, new RegExp(`queued by cell ${earlier}`), report.text);
  });

  test('two reads started on an idle GPU, then matMuls queued before their await: the matMuls are the reads\' wait, not their copy', async () => {
    // One staging buffer exists after this and the GPU is idle: of the next cell's two reads, the
    // second finds no free buffer and takes its turn after the cell has queued more work.
    await runOk(kernel(), 'const idleA = tf.mul(tf.randomNormal([1024]), 2), idleB = tf.mul(tf.randomNormal([1024]), 3);\nawait tf.add(idleA, idleB).data();');
    const exchange = await runOk(kernel(), [
      'const readA = idleA.data(), readB = idleB.data();',
      'let f = a;',
      'for (let i = 0; i < 3; i++) f = tf.matMul(f, a);',
      'flushGpu();',
      'const t1 = performance.now();',
      'const behind = gpu.device.queue.onSubmittedWorkDone().then(() => performance.now() - t1);',
      'await Promise.all([readA, readB]);',
      'console.log(`fenced ${(await behind).toFixed(3)}`);',
    ].join('\n'));
    const fenced = printedNumber(streamText(exchange, 'stdout'), 'fenced');
    assert.ok(fenced >= 300, `the cell must queue at least 300 ms of GPU work to test this; it queued ${fenced} ms`);
    const reads = theReport(exchange).meta.transfers.filter((move) => move.direction === 'D2H');
    assert.equal(reads.length, 2, `two readbacks: ${JSON.stringify(reads)}`);
    for (const read of reads) {
      assert.equal(read.bytes, 4096);
      assert.ok(Math.abs(read.waitMs + read.copyMs - read.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(read)}`);
      // A 4 KiB copy is milliseconds; the matMuls behind which it queued are hundreds.
      assert.ok(read.copyMs < 0.25 * fenced, `a 4 KiB copy took ${read.copyMs.toFixed(1)} ms beside ${fenced.toFixed(1)} ms of queued matMuls: ${JSON.stringify(read)}`);
    }
    const waited = Math.max(...reads.map((read) => read.waitMs));
    assert.ok(waited >= 0.5 * fenced, `the read that waited its turn shows ${waited.toFixed(1)} ms of wait; the matMuls took ${fenced.toFixed(1)} ms`);
  });
});
