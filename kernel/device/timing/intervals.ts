// Arithmetic on time intervals: a cell's GPU time and transfer time count overlapping stretches once.
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
