// RunningUnion against unionMs over the same intervals: random overlapping intervals added in
// the order moves end, the running total after each equals the union of all added so far.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunningUnion, unionMs } from '../../kernel/device/timing/intervals';

test('the running union equals the union of every interval added so far, intervals arriving as they end', () => {
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const running = new RunningUnion();
  const added: { start: number; end: number }[] = [];
  let now = 0;
  for (let i = 0; i < 500; i++) {
    now += random() * 5;
    // Long ones reach back over several earlier ones; some are empty.
    const length = random() < 0.1 ? random() * 40 : random() * 3;
    added.push({ start: now - length, end: now });
    running.add(now - length, now);
    assert.ok(Math.abs(running.total - unionMs(added)) < 1e-9, `after ${i + 1}: ${running.total} vs ${unionMs(added)}`);
  }
});
