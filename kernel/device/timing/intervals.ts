// Arithmetic on time intervals: a cell's GPU time and transfer time count overlapping stretches once.

interface Interval {
  start: number;
  end: number;
}

/** The pieces of `a` that lie inside one of `b`, in order (each set disjoint). */
export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const both: Interval[] = [];
  for (const one of a) {
    for (const other of b) {
      const start = Math.max(one.start, other.start);
      const end = Math.min(one.end, other.end);
      if (end > start) both.push({ start, end });
    }
  }
  return both.sort((x, y) => x.start - y.start);
}

/** a less b, for two sets of disjoint intervals in order. */
export function subtract(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const left: Interval[] = [];
  for (const one of a) {
    let from = one.start;
    for (const other of b) {
      if (other.end <= from || other.start >= one.end) continue;
      if (other.start > from) left.push({ start: from, end: other.start });
      from = Math.max(from, other.end);
    }
    if (one.end > from) left.push({ start: from, end: one.end });
  }
  return left;
}

/** The length of disjoint intervals together. */
export function spansMs(spans: readonly Interval[]): number {
  let total = 0;
  for (const span of spans) total += span.end - span.start;
  return total;
}

/** Total time covered by intervals, overlaps counted once. */
export function unionMs(intervals: readonly { start: number; end: number }[]): number {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  let total = 0;
  let open = -Infinity;
  let close = -Infinity;
  for (const { start, end } of sorted) {
    if (start > close) {
      if (close > open) total += close - open;
      open = start;
      close = end;
    } else if (end > close) close = end;
  }
  if (close > open) total += close - open;
  return total;
}

/** Intervals merged where they overlap or lie closer than `gap` ms, for drawing. */
export function mergeIntervals(intervals: readonly { start: number; end: number }[], gap = 0): [number, number][] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const merged: [number, number][] = [];
  for (const { start, end } of sorted) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1] + gap) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/**
 * Time covered by intervals added one at a time, overlaps counted once: a running total whose
 * difference between two moments is the time the intervals added meanwhile covered that earlier
 * ones had not (a fit epoch's transfer time, its overlapping reads once). Moves are added as they
 * end, so a new one can overlap only recent ones: the newest RECENT stretches are kept, and an
 * interval reaching back past all of them (a move longer than RECENT gaps between earlier moves)
 * counts the time before them as new.
 */
export class RunningUnion {
  private static readonly RECENT = 64;
  /** Disjoint covered stretches, by start. */
  private readonly stretches: [number, number][] = [];
  total = 0;

  add(start: number, end: number): void {
    if (!(end > start)) return;
    let covered = 0;
    let low = start;
    let high = end;
    // Stretches overlapping [start, end] merge into one; the time they covered inside it was counted already.
    let first = this.stretches.length;
    while (first > 0 && this.stretches[first - 1]![1] >= start) first--;
    let last = first;
    while (last < this.stretches.length && this.stretches[last]![0] <= end) {
      const [from, to] = this.stretches[last]!;
      covered += Math.max(0, Math.min(to, end) - Math.max(from, start));
      low = Math.min(low, from);
      high = Math.max(high, to);
      last++;
    }
    this.total += end - start - covered;
    this.stretches.splice(first, last - first, [low, high]);
    if (this.stretches.length > RunningUnion.RECENT) this.stretches.splice(0, this.stretches.length - RunningUnion.RECENT);
  }

  /** A union with the same stretches and total, that runs on apart from this one. */
  clone(): RunningUnion {
    const copy = new RunningUnion();
    copy.stretches.push(...this.stretches.map(([from, to]): [number, number] => [from, to]));
    copy.total = this.total;
    return copy;
  }
}
