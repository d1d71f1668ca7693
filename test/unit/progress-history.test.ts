// progress() keeps what its chart draws, not every step: a long loop's kernel memory stays bounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress } from '../../kernel/display/progress';

test('a loop of 100,000 steps keeps at most 2,000 of them, the last one included, in step order', () => {
  let moved = 0;
  const { progress } = createProgress(() => undefined, () => ({ count: moved, bytes: moved * 4, untimed: 0, ms: moved }));
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

// Moves uploaded at first use are counted but not timed: '91× 23.2 KiB 0.000 ms' read as free moves.
test('a bar\'s transfers say when their time was not measured, and by how many moves', async () => {
  const totals = { count: 0, bytes: 0, untimed: 0, ms: 0 };
  const texts: string[] = [];
  const { progress } = createProgress((event) => {
    const text = (event as { data?: Record<string, unknown> }).data?.['text/plain'];
    if (typeof text === 'string') texts.push(text);
  }, () => ({ ...totals }));
  const untimed = progress(2);
  for (const _step of untimed) Object.assign(totals, { count: totals.count + 3, bytes: totals.bytes + 3072, untimed: totals.untimed + 3 });
  // The bar's last draw may wait for its throttle (100 ms).
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.match(texts.at(-1)!, /transfers 6× 6\.00 KiB time not measured \(uploaded at first use\)/, texts.at(-1));
  assert.doesNotMatch(texts.at(-1)!, /0\.000 ms/);
  const mixed = progress(1);
  for (const _step of mixed) Object.assign(totals, { count: totals.count + 2, bytes: totals.bytes + 2048, untimed: totals.untimed + 1, ms: totals.ms + 4 });
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.match(texts.at(-1)!, /transfers 2× 2\.00 KiB 4\.0 ms \(\+1 not measured\)/, texts.at(-1));
});
