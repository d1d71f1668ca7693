// The timeline's GPU bars against the busy time they stand for: however many passes a cell ran,
// the bars drawn (at most a few hundred) must cover no more time than the GPU was busy, which the
// test computes itself from the same intervals (sorted, overlaps once), and no less.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ClockedBackend, GpuClock, type GpuInterval } from '../../kernel/device/timing/gpu-clock';
import { gpuUse } from '../../kernel/device/timing/gpu-use';

/** The test's own union of intervals: sorted by start, each counted past the furthest end so far. */
function busyMs(intervals: readonly { start: number; end: number }[]): number {
  let total = 0;
  let reached = -Infinity;
  for (const { start, end } of [...intervals].sort((a, b) => a.start - b.start)) {
    if (end > reached) total += end - Math.max(start, reached);
    reached = Math.max(reached, end);
  }
  return total;
}

/** A seeded run of GPU passes: `count` of them, short, with idle gaps longer than the passes. */
function passes(count: number, seed: number): GpuInterval[] {
  let state = seed;
  const next = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out: GpuInterval[] = [];
  let at = 1000;
  for (let i = 0; i < count; i++) {
    const start = at + 0.05 + next() * 3;
    const end = start + 0.02 + next() * 0.4;
    out.push({ start, end, cell: 2, label: null, submit: i + 1 });
    at = end;
  }
  return out;
}

const clock = { source: 'timestamps', pending: false } as unknown as GpuClock;

describe('timeline GPU bars', () => {
  for (const count of [50, 3000, 20000]) {
    test(`${count} passes with idle gaps: the bars draw the busy time, no more (and at most 400 bars)`, () => {
      const intervals = passes(count, count);
      const use = gpuUse({ intervals, clock }, { start: 1000, end: Infinity }, 2);
      assert.ok(use !== null);
      const busy = busyMs(intervals);
      const drawn = use.spans.reduce((sum, [start, end]) => sum + end - start, 0);
      assert.ok(use.spans.length <= 400, `${use.spans.length} bars`);
      assert.ok(Math.abs(use.ms - busy) <= 1e-6 * busy, `the figure ${use.ms} ms; the test's own union ${busy} ms`);
      assert.ok(Math.abs(drawn - busy) <= 1e-6 * busy, `the bars cover ${drawn.toFixed(3)} ms; the GPU was busy ${busy.toFixed(3)} ms`);
      for (let i = 1; i < use.spans.length; i++) assert.ok(use.spans[i]![0] >= use.spans[i - 1]![1], `bars ${i - 1} and ${i} overlap`);
    });
  }
});

describe('a cell\'s GPU time is what ran in its window', () => {
  test('earlier cells\' work that ran partly before the cell began: only the part inside counts, the rest is given apart; nothing past the end', () => {
    const interval = (start: number, end: number, cell: number, submit: number): GpuInterval => ({ start, end, cell, label: null, submit });
    // Cell 3 runs 1000–1500. Cell 2's work ran 600–1100 and 1100–1200; cell 1's 200–300; cell 3's own 1300–1600 (the last 100 ms past the report).
    const intervals = [interval(600, 1100, 2, 1), interval(1100, 1200, 2, 2), interval(200, 300, 1, 3), interval(1300, 1600, 3, 4)];
    const use = gpuUse({ intervals, clock }, { start: 1000, end: 1500 }, 3);
    assert.ok(use !== null);
    assert.equal(use.ms, 200 + 200);
    assert.equal(use.earlierCellsMs, 200);
    assert.deepEqual(use.earlierCells, [2]);
    assert.equal(use.ranBeforeMs, 400 + 100);
    assert.deepEqual(use.ranBeforeCells, [1, 2]);
    assert.ok(use.ms <= 500, 'never more than the window');
    assert.deepEqual(use.spans, [[0, 200], [300, 500]]);
  });

  test('work timed in cells without a report (%report off) is named by the next report as run before it, whole, and kept as a sum, not per submit', () => {
    // Only the source is read from the backend until install(): a clock that never runs a GPU.
    const kept = new GpuClock({ device: { features: { has: () => true } } } as unknown as ClockedBackend, () => 0);
    const all: GpuInterval[] = [];
    // 2,000 unreported cells (4 to 2003), 20 submits each: each cell's times are kept at its end.
    for (let cell = 4; cell < 2004; cell++) {
      const intervals = passes(20, cell).map((interval, at) => ({ ...interval, start: interval.start + cell * 100, end: interval.end + cell * 100, cell, submit: at + 1 }));
      all.push(...intervals);
      kept.keepRanBefore(intervals, kept.takeRanBefore());
    }
    assert.deepEqual(kept.take(), [], 'the kept work is not held interval by interval');
    // The next report: cell 2004, its window after all of it, with one pass of its own.
    const window = { start: 2004 * 100 + 1000, end: 2004 * 100 + 2000 };
    const own: GpuInterval = { start: window.start + 10, end: window.start + 30, cell: 2004, label: null, submit: 1 };
    const use = gpuUse({ intervals: [own], ranBefore: kept.takeRanBefore(), clock }, window, 2004);
    assert.ok(use !== null);
    const busy = busyMs(all);
    assert.ok(Math.abs(use.ranBeforeMs - busy) <= 1e-6 * busy, `shown ${use.ranBeforeMs} ms as run before; the test's own union ${busy} ms`);
    assert.equal(use.ranBeforeCells.length, 2000);
    assert.equal(use.ranBeforeCells[0], 4);
    assert.equal(use.ms, 20);
    assert.deepEqual(kept.takeRanBefore(), { ms: 0, cells: [] }, 'taken once');
  });
});
