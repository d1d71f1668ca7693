// A move's call, watched while a GPU may be set up on its way: the code the caller runs meanwhile
// (after an await, or right after the call) is told apart from the move's own, however long each
// runs. Each time is checked against the test's own clock around the code it ran.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MoveCall, watchedCalls } from '../../kernel/device/timing/move-call';
import { unionMs } from '../../kernel/device/timing/intervals';

function spin(ms: number): { start: number; end: number } {
  const start = performance.now();
  while (performance.now() - start < ms) { /* busy */ }
  return { start, end: performance.now() };
}

/** A stand-in for a first move: awaits of its own, a long stretch of its own work, a real wait. */
async function ownWork(): Promise<number> {
  await null;
  await Promise.resolve();
  spin(60);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await null;
  return 1;
}

test('the caller\'s loop after `await null` is other code; the move\'s own 60 ms is not', async () => {
  const call = new MoveCall(true);
  const moving = call.run(ownWork);
  await null;
  const loop = spin(150);
  await moving;
  const other = call.finish();
  const otherMs = unionMs(other);
  assert.ok(otherMs >= loop.end - loop.start, `other code ${otherMs.toFixed(1)} ms; the caller's loop ran ${(loop.end - loop.start).toFixed(1)} ms`);
  assert.ok(otherMs < loop.end - loop.start + 30, `other code ${otherMs.toFixed(1)} ms takes in the move's own 60 ms stretch (loop ${(loop.end - loop.start).toFixed(1)} ms)`);
  assert.equal(watchedCalls(), 0, 'the hooks are off once the move has settled');
});

test('the caller\'s loop right after the call, before any await, is other code', async () => {
  const call = new MoveCall(true);
  const moving = call.run(ownWork);
  const loop = spin(120);
  await moving;
  const otherMs = unionMs(call.finish());
  assert.ok(otherMs >= loop.end - loop.start, `other code ${otherMs.toFixed(1)} ms; the caller's loop ran ${(loop.end - loop.start).toFixed(1)} ms`);
  assert.ok(otherMs < loop.end - loop.start + 30, `other code ${otherMs.toFixed(1)} ms takes in the move's own 60 ms stretch (loop ${(loop.end - loop.start).toFixed(1)} ms)`);
});

test('a move that fails (a device name that does not resolve) ends its watch', async () => {
  const call = new MoveCall(true);
  await assert.rejects(call.run(async () => {
    await null;
    throw new Error('no device "gpu:9"');
  }));
  assert.equal(watchedCalls(), 0, 'the hooks are off once the move has failed');
});

test('a call not watched (every GPU ready) notes nothing and turns nothing on', async () => {
  const call = new MoveCall(false);
  assert.equal(watchedCalls(), 0);
  await call.run(ownWork);
  assert.deepEqual(call.finish(), []);
});
