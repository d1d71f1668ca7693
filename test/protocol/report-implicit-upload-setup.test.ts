// An implicit upload (the auto policy moving an op's cpu input to its GPU) on an empty upload pool
// makes its staging buffer as it goes: that is set-up, as for an explicit move, not copy. The first
// one showed `H2D 1× 1.00 MiB 25.4 ms (copy 25.4 ms, 0.041 GB/s)` with no wait, where the same
// upload later took 0.48 ms. The cell times the staging buffers the device makes itself (wrapping
// its createBuffer) and its own op call around the move.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runOk, seenIn, theReport, useReportKernel, TIMED_STAGING_BUFFERS } from '../support/report';

interface Measured { wall: number; made: number; madeMs: number }

const ELEMENTS = 262_144; // 1 MiB of float32: above the size written straight to the GPU

describe('inline report: an implicit upload\'s staging set-up', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 started, its ops kept on the GPU, a GPU tensor read (the readback pool made, the upload pool empty)', async () => {
    await runOk(kernel(), '%device gpu:0\nawait tf.ones([4]).add(1).data();');
    await runOk(kernel(), [
      "tf.env().set('WEBGPU_CPU_FORWARD', false);",
      `const onGpu = tf.ones([${ELEMENTS}]).add(0);`,
      'await onGpu.data();',
      ...TIMED_STAGING_BUFFERS,
      '0',
    ].join('\n'));
  });

  test('the first implicit upload: the staging buffer made for it is set-up, its copy is the rest', async (t) => {
    const exchange = await runOk(kernel(), [
      `const fromCpu = await withDevice('cpu', () => tf.randomNormal([${ELEMENTS}]));`,
      'const madeFrom = made.length; const t0 = performance.now();',
      'const summed = onGpu.add(fromCpu);',
      'const wall = performance.now() - t0, mine = made.slice(madeFrom);',
      'console.log(`measured ${JSON.stringify({ wall, made: mine.length, madeMs: mine.reduce((sum, [a, b]) => sum + b! - a!, 0) })}`);',
    ].join('\n'));
    const measured = seenIn<Measured>(exchange, 'measured');
    const report = theReport(exchange);
    const moves = report.meta.transfers.filter((move) => move.direction === 'H2D' && move.operation === 'Add' && move.untimed !== true);
    t.diagnostic(`measured ${JSON.stringify(measured)}; moves ${JSON.stringify(moves)} || ${report.text.split('\n')[0]}`);
    assert.equal(moves.length, 1, `one timed implicit upload of the cpu input: ${JSON.stringify(report.meta.transfers)}`);
    const move = moves[0]!;
    assert.equal(move.cause, 'implicit', JSON.stringify(move));
    assert.equal(move.bytes, ELEMENTS * 4, JSON.stringify(move));
    assert.ok(measured.made >= 1, `precondition: the upload made a staging buffer (${JSON.stringify(measured)})`);
    const setUp = move.waits.filter((wait) => wait.cause === 'staging-setup').reduce((sum, wait) => sum + wait.ms, 0);
    assert.ok(setUp >= 0.9 * measured.madeMs, `set-up shown ${setUp.toFixed(1)} ms; the staging buffer took ${measured.madeMs.toFixed(1)} ms to make: ${report.text}`);
    assert.ok(move.copyMs <= measured.wall - measured.madeMs + 2, `copy shown ${move.copyMs.toFixed(1)} ms; the op call took ${measured.wall.toFixed(1)} ms, `
      + `${measured.madeMs.toFixed(1)} of them making the staging buffer: ${report.text}`);
    assert.ok(Math.abs(move.waitMs + move.copyMs - move.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(move)}`);
  });
});
