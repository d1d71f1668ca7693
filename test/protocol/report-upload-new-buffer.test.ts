// An upload into a GPU buffer Dawn has just made: Dawn zero-fills a new buffer on its first write
// that does not cover it whole (the upload's first chunk), and that clear ran inside the first
// chunk's copy. A 64 MiB upload into a new buffer showed `copy 334 ms, 0.201 GB/s`, one into a
// pooled buffer of the same size `copy 10.1 ms, 6.62 GB/s` (lavapipe). The upload now clears the new
// buffer before its first chunk, and that time is its set-up.
//
// Measured by the cells themselves: the wall time of an upload into a pooled buffer (what a copy
// of those bytes takes on this machine now), and the clear (timed by wrapping the device's
// encoder and queue, from the clear's recording until its fence came back).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runOk, seenIn, theReport, useReportKernel, type ReportTransfer, TIMED_STAGING_BUFFERS } from '../support/report';

const MIB64 = 64 * 2 ** 20;

/**
 * gpu:0 set up by a 4 KiB upload; the upload pool's staging buffers made by a 32 MiB upload (then
 * freed: its buffer is another size); two 64 MiB host tensors. Then the device's buffers and clears are timed.
 */
const SETUP = [
  '%device cpu',
  "await tf.ones([1024]).to('gpu:0');",
  "(await tf.randomNormal([8 * 1024 * 1024]).to('gpu:0')).dispose();",
  'const fresh = tf.randomNormal([16 * 1024 * 1024]), pooled = tf.randomNormal([16 * 1024 * 1024]);',
  'const pairA = tf.randomNormal([12 * 1024 * 1024]), pairB = tf.randomNormal([12 * 1024 * 1024]);',
  'const mixPooled = tf.randomNormal([16 * 1024 * 1024]), mixNew = tf.randomNormal([10 * 1024 * 1024]);',
  ...TIMED_STAGING_BUFFERS,
  '0',
].join('\n');

/** `await <what>` timed by the cell, with the clears and staging buffers the device made meanwhile. */
function timedCell(what: string): string {
  return [
    'const clearedFrom = cleared.length, madeFrom = made.length; const t0 = performance.now();',
    `${what};`,
    'const wall = performance.now() - t0, clears = cleared.slice(clearedFrom), mine = made.slice(madeFrom);',
    'const spanMs = (spans: number[][]) => spans.reduce((sum, [a, b]) => sum + b! - a!, 0);',
    // A clear queued behind another ran from that one's end: its own time, not its wait.
    'const ownClearMs = (spans: number[][]) => spans.map(([a, b], i) => b! - Math.max(a!, i > 0 ? spans[i - 1]![1]! : -Infinity));',
    'console.log(`measured ${JSON.stringify({ wall, clears: clears.length, clearedMs: spanMs(clears), longestClearMs: Math.max(0, ...ownClearMs(clears)), '
      + 'made: mine.length, madeMs: spanMs(mine) })}`);',
  ].join('\n');
}

interface Measured { wall: number; clears: number; clearedMs: number; longestClearMs: number; made: number; madeMs: number }

function partMs(move: ReportTransfer, cause: string): number {
  return move.waits.filter((wait) => wait.cause === cause).reduce((sum, wait) => sum + wait.ms, 0);
}

function theUploads(exchange: Awaited<ReturnType<typeof runOk>>, sizes: readonly number[]): { moves: ReportTransfer[]; line: string; measured: Measured } {
  const report = theReport(exchange);
  const line = report.text.split('\n')[0]!;
  const moves = report.meta.transfers.filter((move) => move.direction === 'H2D');
  assert.deepEqual(moves.map((move) => move.bytes).sort((a, b) => a - b), [...sizes].sort((a, b) => a - b), line);
  for (const move of moves) {
    assert.ok(Math.abs(move.waitMs + move.copyMs - move.ms) < 1e-6, `ms = waitMs + copyMs: ${JSON.stringify(move)}`);
    assert.ok(Math.abs(move.waits.reduce((sum, wait) => sum + wait.ms, 0) - move.waitMs) < 0.01, `the waits add up to the wait: ${JSON.stringify(move.waits)}`);
  }
  return { moves, line, measured: seenIn<Measured>(exchange, 'measured') };
}

function theUpload(exchange: Awaited<ReturnType<typeof runOk>>): { move: ReportTransfer; line: string; measured: Measured } {
  const { moves, line, measured } = theUploads(exchange, [MIB64]);
  return { move: moves[0]!, line, measured };
}

describe('inline report: an upload into a new GPU buffer', () => {
  const kernel = useReportKernel();
  let freshUpload: ReturnType<typeof theUpload> | null = null;

  test('setup: gpu:0 and its upload pool set up, two 64 MiB host tensors, buffers and clears timed', async () => {
    await runOk(kernel(), SETUP);
  });

  test('64 MiB into a new buffer: cleared once before its chunks, and that clear is set-up, not copy', async (t) => {
    freshUpload = theUpload(await runOk(kernel(), timedCell("const onGpu = await fresh.to('gpu:0')")));
    const { move, line, measured } = freshUpload;
    const setUp = partMs(move, 'staging-setup');
    const hostBusy = partMs(move, 'host-busy');
    t.diagnostic(`wall ${measured.wall.toFixed(1)} ms, cleared ${measured.clears}× in ${measured.clearedMs.toFixed(1)} ms, ${measured.made} staging buffers made; `
      + `shown: set-up ${setUp.toFixed(1)} ms, host busy ${hostBusy.toFixed(1)} ms, copy ${move.copyMs.toFixed(1)} ms: ${line}`);
    assert.equal(measured.clears, 1, `the new buffer was not cleared once before the upload's chunks: ${line}`);
    assert.ok(setUp + hostBusy >= 0.9 * measured.clearedMs, `set-up (and host busy) show ${(setUp + hostBusy).toFixed(1)} ms; the clear took ${measured.clearedMs.toFixed(1)} ms: ${line}`);
    // The move's span of the clear holds a few steps the cell's does not (the encoder made, the submit, its own continuation): ms on a busy machine.
    assert.ok(setUp <= 1.05 * (measured.clearedMs + measured.madeMs) + 5, `set-up shows ${setUp.toFixed(1)} ms; the clear and the buffers made took ${(measured.clearedMs + measured.madeMs).toFixed(1)} ms: ${line}`);
    assert.match(line, /gpu:0 set-up \(new buffer\)/, 'the text names the set-up');
  });

  test('the same bytes into the buffer that upload freed: no clear, and the new buffer\'s copy was about as long', async (t) => {
    assert.ok(freshUpload !== null, 'the upload into a new buffer ran');
    const { move, line, measured } = theUpload(await runOk(kernel(), timedCell("onGpu.dispose(); const again = await pooled.to('gpu:0')")));
    t.diagnostic(`pooled: wall ${measured.wall.toFixed(1)} ms, copy ${move.copyMs.toFixed(1)} ms: ${line}; new buffer: copy ${freshUpload.move.copyMs.toFixed(1)} ms: ${freshUpload.line}`);
    assert.equal(measured.clears, 0, `a pooled buffer was cleared: ${line}`);
    assert.equal(partMs(move, 'staging-setup'), 0, `set-up shown for an upload into a pooled buffer with the pool's staging buffers: ${line}`);
    // The copy of 64 MiB into the new buffer is the copy of those bytes, as into the pooled one
    // (timed by this cell's own clock); not the clear's hundreds of ms.
    assert.ok(freshUpload.move.copyMs <= 3 * measured.wall + 25,
      `the upload into a new buffer shows copy ${freshUpload.move.copyMs.toFixed(1)} ms; the same bytes into a pooled buffer took ${measured.wall.toFixed(1)} ms: ${freshUpload.line}`);
  });

  // Started together, the second's clear is queued behind the first's: its fence waited for both,
  // and a second new 47 MiB upload showed both clears (293 ms) as its own set-up (found in review).
  test('two new buffers at once: each move\'s set-up is its own clear; the other\'s is a wait for that move', async (t) => {
    const { moves, line, measured } = theUploads(await runOk(kernel(), timedCell("const pair = await Promise.all([pairA.to('gpu:0'), pairB.to('gpu:0')])")), [48 * 2 ** 20, 48 * 2 ** 20]);
    const setUps = moves.map((move) => partMs(move, 'staging-setup'));
    t.diagnostic(`cleared ${measured.clears}× in ${measured.clearedMs.toFixed(1)} ms (the longest on its own ${measured.longestClearMs.toFixed(1)}); shown set-up ${setUps.map((ms) => ms.toFixed(1)).join(' and ')} ms: ${line}`);
    assert.equal(measured.clears, 2, `two new buffers, two clears: ${line}`);
    for (const setUp of setUps) {
      assert.ok(setUp <= 1.05 * measured.longestClearMs + 5, `a move shows ${setUp.toFixed(1)} ms of set-up; the longest clear took ${measured.longestClearMs.toFixed(1)} ms on its own: ${JSON.stringify(moves.map((move) => move.waits))}`);
    }
    assert.ok(setUps[0]! + setUps[1]! >= 0.8 * measured.clearedMs, `set-up ${setUps.map((ms) => ms.toFixed(1)).join(' + ')} ms; the clears took ${measured.clearedMs.toFixed(1)} ms: ${line}`);
  });

  // A pooled target started first, a new one beside it: the new buffer made during the pooled
  // move's check made it look new too (tfjs's count of bytes made, read across that await), and it
  // was cleared and shown with 35 ms of set-up (found in review).
  test('a pooled and a new buffer at once: only the new one is cleared, and only its move shows set-up', async (t) => {
    const { moves, line, measured } = theUploads(await runOk(kernel(),
      timedCell("again.dispose(); const mixed = await Promise.all([mixPooled.to('gpu:0'), mixNew.to('gpu:0')])")), [MIB64, 40 * 2 ** 20]);
    t.diagnostic(`cleared ${measured.clears}× in ${measured.clearedMs.toFixed(1)} ms: ${line}`);
    assert.equal(measured.clears, 1, `one new buffer, one clear: ${line}`);
    const pooledMove = moves.find((move) => move.bytes === MIB64)!;
    assert.equal(partMs(pooledMove, 'staging-setup'), 0, `the upload into a pooled buffer shows set-up: ${JSON.stringify(pooledMove.waits)}: ${line}`);
  });
});
