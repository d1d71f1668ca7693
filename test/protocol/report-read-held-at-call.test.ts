// A readback is timed from the cell's call (x.data(), x.array(), x.cpu()), as a move is. Code the
// cell runs before the read is awaited holds it up: `await null` then a busy loop, a loop right
// after the call with no await between, or a loop between two reads awaited together. The loop's
// time is host busy, never the copy, and it is part of the read's time. array() is a read, then
// tfjs nesting the values on the host: that nesting is host work, not the read's copy (nor the
// copy of a read awaited beside it). model.to() is timed from its call too. The cell times its
// own call, loop, end, and the nesting (a second array() of the same tensor: its values are on
// the host by then, so it only nests).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { runOk, theReport, useReportKernel } from '../support/report';

interface Measured {
  callToDone: number;
  busy: number;
  /** The nesting of a 1M-element array() alone (0 where the cell made no array()). */
  nest: number;
}

function measuredIn(stdout: string): Measured {
  const match = /measured (\{.*\})/.exec(stdout);
  assert.ok(match !== null, `the cell printed no measurement: ${JSON.stringify(stdout)}`);
  return JSON.parse(match[1]!) as Measured;
}

const LOOP_MS = 400;
const LOOP = `const tb = performance.now(); const end = Date.now() + ${LOOP_MS}; while (Date.now() < end) {} const busy = performance.now() - tb;`;
const NONE = 'const busy = 0;';
/** The nesting alone: R's values are on the host once it was read. */
const NEST = 'const n0 = performance.now(); await R.array(); const nest = performance.now() - n0;';
const PRINT = 'console.log(`measured ${JSON.stringify({ callToDone: t2 - t0, busy, nest })}`); }';

/** `ticks`: how many `await null` lie between the call and the loop (0: the loop follows the call at once). */
const HELD = (call: string, ticks: number, loop = LOOP): string => [
  `{ const t0 = performance.now(); const p = ${call};${' await null;'.repeat(ticks)}`,
  `${loop} await p; const t2 = performance.now(); ${call.startsWith('R.array') ? NEST : 'const nest = 0;'}`,
  PRINT,
].join('\n');

/** Two reads awaited together, the loop between their calls. */
const TWO = (a: string, b: string): string => [
  `{ const t0 = performance.now(); const p = ${a};`,
  `${LOOP} await Promise.all([p, ${b}]); const t2 = performance.now(); ${a.startsWith('R.array') ? NEST : 'const nest = 0;'}`,
  PRINT,
].join('\n');

/**
 * Fresh GPU tensors R and Q. `idle`: computed, the GPU idle (a later op's read waited for them), so
 * only the loop holds a read up; else their work is still queued when the cell begins.
 */
const FRESH = (k: number, idle: boolean): string => `const R = tf.add(G, ${k}), Q = tf.add(G, ${k + 0.5});${idle ? ' await tf.add(G, 0).data();' : ''}`;

describe('inline report: a readback held by the cell\'s code before it is awaited', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 set up, a 4 MiB tensor on it, the readback staging made', async () => {
    await runOk(kernel(), '%device gpu:0\nconst G = tf.randomNormal([1024 * 1024]); await tf.add(G, 1).data(); await tf.add(G, 2).data();\n0');
  });

  // [what, the cell's code, the direction of its moves]
  const cases = [
    ['data(), `await null` then a loop', HELD('R.data()', 1), 'D2H'],
    ['data(), a loop right after the call', HELD('R.data()', 0), 'D2H'],
    ['x.cpu(), `await null` then a loop', HELD('R.cpu()', 1), 'D2H'],
    ['two data() in Promise.all, the loop between their calls', TWO('R.data()', 'Q.data()'), 'D2H'],
    ['array() awaited at once', HELD('R.array()', 0, NONE), 'D2H'],
    ['array(), a loop right after the call', HELD('R.array()', 0), 'D2H'],
    ['array() and data() in Promise.all, the loop between their calls', TWO('R.array()', 'Q.data()'), 'D2H'],
  ] as const;
  cases.forEach(([what, cell, direction], index) => {
    test(`${what}: the loop's time is host busy and in the read's time; the copy is the read's`, async (t) => {
      await runOk(kernel(), `${FRESH(3 + index, true)}\n0`);
      check(t, await runOk(kernel(), cell), direction);
    });
  });

  test('model.to(\'gpu:0\'), a loop right after the call: the loop is host busy and in the moves\' time', async (t) => {
    await runOk(kernel(), '%device cpu\nconst m = tf.sequential({ layers: [tf.layers.dense({ units: 512, inputShape: [512] }), tf.layers.dense({ units: 512 })] });\n0');
    check(t, await runOk(kernel(), HELD("m.to('gpu:0')", 0)), 'H2D');
  });

  function check(t: { diagnostic(message: string): void }, exchange: Awaited<ReturnType<typeof runOk>>, direction: 'D2H' | 'H2D'): void {
    const { callToDone, busy, nest } = measuredIn(streamText(exchange, 'stdout'));
    const report = theReport(exchange);
    const moves = report.meta.transfers.filter((move) => move.direction === direction);
    const line = report.text.split('\n')[0];
    t.diagnostic(`cell: call to done ${callToDone.toFixed(1)} ms, loop ${busy.toFixed(1)} ms, nesting ${nest.toFixed(1)} ms; report: ${line}`);
    assert.ok(moves.length >= 1, `no ${direction} move: ${line}`);
    const ms = Math.max(...moves.map((move) => move.waitMs + move.copyMs));
    const copy = moves.reduce((total, move) => total + move.copyMs, 0);
    const hostBusy = moves.reduce((total, move) => total + move.waits.filter((wait) => wait.cause === 'host-busy').reduce((sum, wait) => sum + wait.ms, 0), 0);
    assert.ok(ms <= callToDone + 1, `a move took ${ms.toFixed(1)} ms; the cell saw ${callToDone.toFixed(1)} ms from its call to its end: ${line}`);
    assert.ok(ms >= busy, `the moves took at most ${ms.toFixed(1)} ms, less than the ${busy.toFixed(1)} ms the cell's loop held them: ${line}`);
    // A copy may run on the GPU while the cell's loop runs (lavapipe's threads copy meanwhile): of
    // the loop's time, what is not the copy or GPU work is host busy, and host busy is never more
    // than the host's own code (the loop, and tfjs nesting values).
    const maxHostBusy = Math.max(...moves.map((move) => move.waits.filter((wait) => wait.cause === 'host-busy').reduce((sum, wait) => sum + wait.ms, 0)));
    if (busy > 0) {
      assert.ok(maxHostBusy >= 0.75 * busy, `host busy ${maxHostBusy.toFixed(1)} ms; the cell's loop ran ${busy.toFixed(1)} ms: ${line}`);
      assert.ok(hostBusy <= 1.1 * busy + 2 * nest + 1, `host busy ${hostBusy.toFixed(1)} ms; the cell's loop ran ${busy.toFixed(1)} ms and nesting takes ${nest.toFixed(1)} ms: ${line}`);
    }
    // array(): nesting the values is host work, not the read's copy (the copy may overlap the loop: a quarter of it allowed).
    if (nest > 0) {
      assert.ok(copy <= 0.5 * nest + 0.25 * busy + 1, `copy ${copy.toFixed(1)} ms; nesting the values alone takes ${nest.toFixed(1)} ms (the read is a few ms of it): ${line}`);
    }
  }
});
