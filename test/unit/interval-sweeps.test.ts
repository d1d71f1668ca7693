// The sweeps the cell's end leans on at thousands of moves, against a count the test makes itself:
// minusEach (each span less every hole, holes sorted once) and kernelWorkBeginsIn (a binary search
// over the kernel's noted work), on random spans with integer ends, checked point by point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minusEach } from '../../kernel/device/timing/host-away';
import { spansMs } from '../../kernel/device/timing/intervals';
import { kernelWorkBeginsIn, noteKernelWork } from '../../kernel/device/timing/kernel-work';

function seeded(seed: number): (below: number) => number {
  return (below) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * below);
  };
}

interface Span { start: number; end: number }
const inside = (point: number, spans: readonly Span[]): boolean => spans.some((span) => span.start < point && point < span.end);

test('minusEach leaves, of each span, exactly the points no hole covers, in order and without overlap', () => {
  const random = seeded(777);
  for (let round = 0; round < 200; round++) {
    const spans = Array.from({ length: 1 + random(4) }, () => {
      const start = random(100);
      return { start, end: start + 1 + random(30) };
    });
    // Holes in any order, overlapping each other, some empty or outside every span.
    const holes = Array.from({ length: random(12) }, () => {
      const start = random(120) - 10;
      return { start, end: start + random(25) };
    });
    const left = minusEach(spans, holes);
    // Point by point, at half-units (no end lies there): in a span and in no hole, as many times as spans hold it.
    for (let point = -10.5; point < 140; point += 1) {
      const expected = spans.filter((span) => span.start < point && point < span.end).length * (inside(point, holes) ? 0 : 1);
      const got = left.filter((piece) => piece.start < point && point < piece.end).length;
      assert.equal(got, expected, `round ${round}, point ${point}: ${JSON.stringify({ spans, holes, left })}`);
    }
    assert.ok(left.every((piece) => piece.end > piece.start), `no empty pieces: ${JSON.stringify(left)}`);
    const wanted = spans.reduce((sum, span) => {
      let free = 0;
      for (let point = span.start + 0.5; point < span.end; point += 1) if (!inside(point, holes)) free += 1;
      return sum + free;
    }, 0);
    assert.equal(spansMs(left), wanted, `the pieces' length is the spans' uncovered points: ${JSON.stringify({ spans, holes, left })}`);
  }
});

test('kernelWorkBeginsIn says whether noted work began strictly after a span\'s start and before its end', () => {
  const random = seeded(4242);
  // Far past anything this process noted before: its own stretches only, in time order and disjoint.
  let now = performance.now() + 1e9;
  const noted: Span[] = [];
  for (let index = 0; index < 300; index++) {
    now += 1 + random(5);
    const span = { start: now, end: now + 1 + random(3) };
    noteKernelWork(span.start, span.end);
    noted.push(span);
    now = span.end;
  }
  const from = noted[0]!.start - 5;
  const to = now + 5;
  for (let round = 0; round < 2000; round++) {
    const start = from + random(Math.ceil(to - from));
    const span = { start, end: start + random(12) };
    const expected = noted.some((work) => work.start > span.start && work.start < span.end);
    assert.equal(kernelWorkBeginsIn(span), expected, `${JSON.stringify(span)} against ${JSON.stringify(noted.filter((work) => work.end > span.start - 10 && work.start < span.end + 10))}`);
  }
});
