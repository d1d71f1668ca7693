// Uploads on a GPU set up already, four at once (one Promise.all, or called in a loop and awaited
// together), three of them needing a staging buffer the pool does not have yet. Dawn makes a
// buffer synchronously, on the thread: the moves in flight meanwhile were held up by that set-up,
// and their copies must not take it in (4 × 1 MiB showed "copy 107 ms, 0.039 GB/s" and 1.5 ms of
// set-up where making the buffers took 87 ms). The cell counts and times the buffers the device
// makes by wrapping its createBuffer, and times its own await.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import type { Exchange } from '../support/kernel-client';
import { pooledTensorBuffers, runOk, theReport, useReportKernel } from '../support/report';

function measuredIn(stdout: string): Record<string, number> {
  const match = /measured (\{.*\})/.exec(stdout);
  assert.ok(match !== null, `the cell printed no measurement: ${JSON.stringify(stdout)}`);
  return JSON.parse(match[1]!) as Record<string, number>;
}

/**
 * gpu:0 set up by a first 1 MiB upload (one staging buffer made), and four 1 MiB tensor buffers
 * made by an op and freed: the uploads land in those, pooled, and clear no new buffer (that set-up
 * is report-upload-new-buffer.test.ts's). The cell then counts and times every staging buffer (8 MiB,
 * the default chunk) the device makes.
 */
const SETUP = [
  '%device cpu',
  "const first = tf.randomNormal([256 * 1024]); await first.to('gpu:0');",
  pooledTensorBuffers([256 * 1024, 256 * 1024, 256 * 1024, 256 * 1024]),
  'const made = { count: 0, ms: 0 };',
  'const bufferDevice = (tf.engine() as unknown as { registry: Record<string, { device: { createBuffer(descriptor: { size: number }): unknown } }> }).registry["gpu:0"]!.device;',
  'const createBuffer = bufferDevice.createBuffer.bind(bufferDevice);',
  'bufferDevice.createBuffer = (descriptor: { size: number }) => { const t = performance.now(); try { return createBuffer(descriptor); } finally { if (descriptor.size === 8 * 1024 * 1024) { made.count++; made.ms += performance.now() - t; } } };',
  '0',
].join('\n');

/** A time the line shows (`pattern`'s first group: "834 µs", "1.2 s"), in ms; 0 when absent. */
function msIn(line: string | undefined, pattern: RegExp): number {
  const match = pattern.exec(line ?? '');
  if (match === null) return 0;
  const [value, unit] = match[1]!.split(' ');
  return Number(value) * (unit === 's' ? 1000 : unit === 'µs' ? 0.001 : 1);
}

/**
 * Each move's copy leaves out the time the thread spent making buffers (the cell's own count):
 * at most the cell's wall time less that; and the line names that time as staging set-up.
 */
function checkConcurrent(exchange: Exchange): void {
  const { wall, made, madeMs } = measuredIn(streamText(exchange, 'stdout'));
  const report = theReport(exchange);
  const line = report.text.split('\n')[0];
  const moves = report.meta.transfers.filter((move) => move.direction === 'H2D');
  assert.equal(moves.length, 4, line);
  console.log(`concurrent: wall ${wall.toFixed(1)} ms, ${made} buffers made in ${madeMs.toFixed(1)} ms: ${line}`);
  // Three new 8 MiB staging buffers (one was made by the first upload), four 1 MiB tensors.
  assert.ok(made >= 3 && madeMs > 0, `the cell saw ${made} staging buffers made: ${line}`);
  for (const move of moves) {
    assert.ok(move.copyMs <= wall - madeMs + 1, `a 1 MiB copy of ${move.copyMs.toFixed(1)} ms in a ${wall.toFixed(1)} ms cell whose buffers took ${madeMs.toFixed(1)} ms to make: ${line}`);
  }
  const setUp = msIn(line, /([\d.]+ (?:µs|ms|s)) gpu:0 set-up \(new buffer\)/);
  assert.ok(setUp >= 0.8 * madeMs, `the line names ${setUp.toFixed(1)} ms of staging set-up; making buffers took ${madeMs.toFixed(1)} ms: ${line}`);
  const copy = msIn(line, /copy ([\d.]+ (?:µs|ms|s))/);
  assert.ok(copy <= wall - madeMs + 1, `the line's copy ${copy.toFixed(1)} ms; the cell's ${wall.toFixed(1)} ms less ${madeMs.toFixed(1)} ms of buffers made: ${line}`);
}

describe('inline report: concurrent uploads, each wanting a new staging buffer', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 set up by a first upload; createBuffer counted and timed', async () => {
    await runOk(kernel(), SETUP);
  });

  test('four 1 MiB uploads in one Promise.all: new staging buffers are set-up, not copy', async () => {
    checkConcurrent(await runOk(kernel(), [
      'const [a, b, c, d] = [0, 1, 2, 3].map(() => tf.randomNormal([256 * 1024]));',
      'const before = { ...made }; const t0 = performance.now();',
      "await Promise.all([a.to('gpu:0'), b.to('gpu:0'), c.to('gpu:0'), d.to('gpu:0')]);",
      'const t1 = performance.now();',
      'console.log(`measured ${JSON.stringify({ wall: t1 - t0, made: made.count - before.count, madeMs: made.ms - before.ms })}`);',
    ].join('\n')));
  });

});

describe('inline report: uploads started in a loop, then awaited together', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 set up by a first upload; createBuffer counted and timed', async () => {
    await runOk(kernel(), SETUP);
  });

  test('four 1 MiB uploads called in a loop: new staging buffers are set-up, not copy', async () => {
    checkConcurrent(await runOk(kernel(), [
      'const xs = [0, 1, 2, 3].map(() => tf.randomNormal([256 * 1024]));',
      'const before = { ...made }; const t0 = performance.now();',
      "const ps: Promise<unknown>[] = []; for (const x of xs) ps.push(x.to('gpu:0')); await Promise.all(ps);",
      'const t1 = performance.now();',
      'console.log(`measured ${JSON.stringify({ wall: t1 - t0, made: made.count - before.count, madeMs: made.ms - before.ms })}`);',
    ].join('\n')));
  });
});
