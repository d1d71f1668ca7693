// An upload's copy as the time the copy took: the cell's own host code that ran while the upload
// waited for the GPU (its await came later) is host busy, not copy, and GB/s is bytes over the
// copy. Each cell times what it did itself: its host loop, and the same upload awaited at once.
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

describe('inline report: an upload\'s copy is the copy', () => {
  const kernel = useReportKernel();

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
