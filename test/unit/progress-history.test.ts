// progress() keeps what its chart draws, not every step: a long loop's kernel memory stays bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress } from '../../kernel/display/progress';

test('a loop of 100,000 steps keeps at most 2,000 of them, the last one included, in step order', () => {
  let moved = 0;
  const { progress } = createProgress(() => undefined, () => ({ count: moved, bytes: moved * 4, ms: moved }));
  const bar = progress(100_000);
  for (const step of bar) {
    if (step % 1000 === 0) moved++;
    bar.set({ loss: 1 / (step + 1) });
  }
  const kept = bar.history;
  assert.ok(kept.length <= 2000 && kept.length >= 1000, `${kept.length} steps kept`);
  assert.equal(kept.at(-1)!.step, 100_000);
  for (let i = 1; i < kept.length; i++) assert.ok(kept[i]!.step > kept[i - 1]!.step, `steps out of order at ${i}`);
});
