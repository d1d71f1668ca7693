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

/** A progress whose moves the test sets (totals), and the text/plain of every draw it sent. */
function textBar() {
  const totals = { count: 0, bytes: 0, untimed: 0, ms: 0 };
  const texts: string[] = [];
  const { progress } = createProgress((event) => {
    const text = (event as { data?: Record<string, unknown> }).data?.['text/plain'];
    if (typeof text === 'string') texts.push(text);
  }, () => ({ ...totals }));
  return { totals, texts, progress };
}

// Moves uploaded at first use are counted but not timed: '91× 23.2 KiB 0.000 ms' read as free moves.
test('a bar\'s transfers say when their time was not measured, and by how many moves', async () => {
  const { totals, texts, progress } = textBar();
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

// A throttled draw is sent up to 100 ms after its call: it rendered the state as it was then, so an
// ended epoch's loss showed beside the next epoch's moves ("epoch 1/3 · loss 1.073 · 28× …").
test('progress.fit: the draw at an epoch\'s end shows that epoch\'s loss and moves, even when sent after the next epoch began', async () => {
  const { totals, texts, progress } = textBar();
  const callbacks = progress.fit({ epochs: 3 });
  await callbacks.onTrainBegin.call({ params: { epochs: 3 } });
  await callbacks.onEpochBegin();
  await callbacks.onBatchBegin();
  Object.assign(totals, { count: 4, bytes: 4096, ms: 8 });
  await callbacks.onEpochEnd(0, { loss: 1.5 });
  // The next epoch begins, and moves 28 tensors, before the throttle lets the epoch's draw out.
  await callbacks.onEpochBegin();
  Object.assign(totals, { count: 32, bytes: 32 * 1024, ms: 64 });
  await new Promise((resolve) => setTimeout(resolve, 250));
  const epochEnd = texts.filter((text) => /loss 1\.5/.test(text));
  assert.ok(epochEnd.length > 0, texts.join('\n---\n'));
  for (const text of epochEnd) assert.match(text, /4× 4\.00 KiB/, text);
  for (const text of epochEnd) assert.doesNotMatch(text, /28×/, text);
});
