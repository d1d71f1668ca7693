// A move's copy as the time the copy took: staging buffers made once its first chunk is on its way
// hold it up only where no chunk of it was on the GPU meanwhile (report-own-staging-setup times
// them), the cell's own host code that ran while an upload waited for the GPU (its await came
// later) is host busy, not copy, and GB/s is bytes over the copy. Each cell times what it did
// itself: its submits to the GPU's queue, its host loop, the same upload awaited at once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { printedNumber } from '../support/gpu-cell';
import { runOk, theReport, useReportKernel, type ReportTransfer } from '../support/report';

/** 16 MiB of float32: two 8 MiB chunks through the staging buffers. */
const ELEMENTS = 4 * 1024 * 1024;

function theUpload(moves: ReportTransfer[]): ReportTransfer {
  const uploads = moves.filter((move) => move.direction === 'H2D');
  assert.equal(uploads.length, 1, `one upload: ${JSON.stringify(moves)}`);
  const upload = uploads[0]!;
  assert.equal(upload.bytes, ELEMENTS * 4);
  assert.ok(Math.abs(upload.waitMs + upload.copyMs - upload.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(upload)}`);
  return upload;
}

/** Lines that count the submits to gpu:0's queue from here on (`submits`, performance.now() each) and time `await <what>`. */
function countingSubmits(what: string): string[] {
  return [
    'const gpuQueue = (tf.engine() as unknown as { registry: Record<string, { queue: { submit(buffers: unknown[]): void } }> }).registry["gpu:0"]!.queue;',
    'const submits: number[] = [];',
    'const submitThrough = gpuQueue.submit.bind(gpuQueue);',
    'gpuQueue.submit = (buffers: unknown[]) => { submits.push(performance.now()); submitThrough(buffers); };',
    'const moveFrom = performance.now();',
    `await ${what};`,
    'const moveTo = performance.now();',
    'gpuQueue.submit = submitThrough;',
    'console.log(`submitted ${(submits[0] ?? NaN).toFixed(3)}`);',
    'console.log(`from ${moveFrom.toFixed(3)}`);',
    'console.log(`to ${moveTo.toFixed(3)}`);',
  ];
}

/**
 * From its first chunk's submit to its end the move is copying, held up by the host, or held up
 * by the buffers it made for later chunks (set-up): those together are at least that time. Set-up
 * before the first submit is no more than the time until it. GB/s is bytes over the copy.
 */
function checkCopy(t: { diagnostic(message: string): void }, stdout: string, move: ReportTransfer, text: string, direction: 'H2D' | 'D2H', size: string): void {
  const [submitted, from, to] = ['submitted', 'from', 'to'].map((label) => printedNumber(stdout, label)) as [number, number, number];
  assert.ok(Number.isFinite(submitted) && submitted > from, `the move submitted its chunks to gpu:0's queue:\n${stdout}`);
  const part = (cause: string): number => move.waits.filter((wait) => wait.cause === cause).reduce((sum, wait) => sum + wait.ms, 0);
  const [setup, hostBusy] = [part('gpu-setup') + part('staging-setup'), part('host-busy')];
  // From the first chunk's submit to the cell seeing the move end, less what comes after the
  // move's own end (recording it, the await resuming: a few ms on a loaded machine).
  const copying = to - submitted;
  const atLeast = copying - Math.max(5, 0.05 * copying);
  t.diagnostic(`shown: copy ${move.copyMs.toFixed(1)} ms, wait ${move.waitMs.toFixed(1)} ms (set-up ${setup.toFixed(1)}, host busy ${hostBusy.toFixed(1)}) of ${move.ms.toFixed(1)} ms; measured: ${(to - from).toFixed(1)} ms, the first chunk submitted ${(submitted - from).toFixed(1)} ms in`);
  assert.ok(setup <= move.ms, `set-up shows ${setup.toFixed(1)} ms of a ${move.ms.toFixed(1)} ms move: ${text}`);
  assert.ok(move.copyMs + hostBusy + setup >= atLeast, `copy ${move.copyMs.toFixed(1)} ms + host busy ${hostBusy.toFixed(1)} ms + set-up ${setup.toFixed(1)} ms; the chunks were moving for ${atLeast.toFixed(1)} ms at least: ${text}`);
  const rate = move.bytes / move.copyMs / 1e6;
  const shown = new RegExp(`${direction} 1× ${size} [^;|]*?, ([\\d.]+) GB/s`).exec(text);
  assert.ok(shown !== null, `the line gives a GB/s: ${text}`);
  assert.ok(Math.abs(Number(shown[1]) - rate) <= Math.max(0.0005, 0.01 * rate), `GB/s is bytes over the copy: ${rate.toFixed(4)}, shown ${shown[1]}`);
}

describe('inline report: a move\'s copy is the copy', () => {
  const kernel = useReportKernel();

  test('the first 32 MiB read, one staging buffer ready and three made as it goes: copy, host busy and later buffers\' set-up cover its first chunk\'s submit to its end', async (t) => {
    // One readback staging buffer made by a small read; the tensor's values computed and the GPU idle.
    await runOk(kernel(), [
      '%device gpu:0',
      `const wide = tf.mul(tf.randomNormal([${2 * ELEMENTS}]), 2);`,
      'await tf.add(wide.slice([0], [4096]), 0).data();',
      '%device cpu',
    ].join('\n'));
    const exchange = await runOk(kernel(), countingSubmits('wide.data()').join('\n'));
    const report = theReport(exchange);
    const reads = report.meta.transfers.filter((move) => move.direction === 'D2H');
    assert.ok(reads.length === 1 && reads[0]!.bytes === 2 * ELEMENTS * 4, `one 32 MiB read: ${JSON.stringify(report.meta.transfers)}`);
    checkCopy(t, streamText(exchange, 'stdout'), reads[0]!, report.text, 'D2H', '32\\.0 MiB');
  });

  test('the first upload, its staging buffers made as it goes: copy, host busy and later buffers\' set-up cover its first chunk\'s submit to its end, and GB/s is bytes over the copy', async (t) => {
    const exchange = await runOk(kernel(), [
      `const first = tf.randomNormal([${ELEMENTS}], 0, 1, 'float32', 4);`,
      ...countingSubmits("first.to('gpu:0')"),
    ].join('\n'));
    const report = theReport(exchange);
    checkCopy(t, streamText(exchange, 'stdout'), theUpload(report.meta.transfers), report.text, 'H2D', '16\\.0 MiB');
  });

  test('setup: three 16 MiB host tensors, gpu:0\'s upload staging buffers made', async () => {
    await runOk(kernel(), [
      `const h1 = tf.randomNormal([${ELEMENTS}], 0, 1, 'float32', 1), h2 = tf.randomNormal([${ELEMENTS}], 0, 1, 'float32', 2);`,
      `const h3 = tf.randomNormal([${ELEMENTS}], 0, 1, 'float32', 3);`,
      "await h3.to('gpu:0');",
    ].join('\n'));
  });

  test('x.to(\'gpu:0\'), a tick, a 1.5 s host loop, then await: the loop is host busy, the copy what an upload awaited at once takes', async (t) => {
    const direct = await runOk(kernel(), [
      'const directFrom = performance.now();',
      "await h1.to('gpu:0');",
      'console.log(`direct ${(performance.now() - directFrom).toFixed(3)}`);',
    ].join('\n'));
    const directMs = printedNumber(streamText(direct, 'stdout'), 'direct');
    const exchange = await runOk(kernel(), [
      "const pending = h2.to('gpu:0');",
      'let landed = false;',
      'pending.then(() => { landed = true; });',
      // The upload starts on this tick, and is waiting for the GPU when the loop begins.
      'await new Promise((resolve) => setTimeout(resolve, 5));',
      'console.log(`landed before the loop ${landed}`);',
      'const spinFrom = performance.now(); while (performance.now() - spinFrom < 1500) {}',
      'console.log(`spun ${(performance.now() - spinFrom).toFixed(3)}`);',
      'await pending;',
    ].join('\n'));
    const stdout = streamText(exchange, 'stdout');
    assert.match(stdout, /landed before the loop false/, 'the upload was still under way when the loop began');
    const spun = printedNumber(stdout, 'spun');
    const report = theReport(exchange);
    const upload = theUpload(report.meta.transfers);
    const hostBusy = upload.waits.filter((wait) => wait.cause === 'host-busy').reduce((sum, wait) => sum + wait.ms, 0);
    t.diagnostic(`shown: copy ${upload.copyMs.toFixed(1)} ms, host busy ${hostBusy.toFixed(1)} ms of ${upload.ms.toFixed(1)} ms; measured: the loop ${spun.toFixed(1)} ms, the same upload awaited at once ${directMs.toFixed(1)} ms`);
    assert.ok(upload.ms >= spun, `the upload was seen to end after the loop (${upload.ms.toFixed(1)} ≥ ${spun.toFixed(1)} ms)`);
    assert.ok(upload.copyMs < 0.5 * spun, `copy shows ${upload.copyMs.toFixed(1)} ms: the ${spun.toFixed(1)} ms loop is not the copy (awaited at once it took ${directMs.toFixed(1)} ms): ${report.text}`);
    assert.ok(hostBusy >= 0.5 * spun && hostBusy <= 1.1 * spun, `host busy shows ${hostBusy.toFixed(1)} ms; the host looped ${spun.toFixed(1)} ms: ${JSON.stringify(upload.waits)}`);
    assert.match(report.text, /H2D 1× 16\.0 MiB [^;|]*host busy/, report.text);
  });
});
