// A GPU's busy time during one cell, as the report shows it: from the intervals its clock read.
import type { GpuUse } from '../../display/report/cell-report';
import type { GpuClock, GpuInterval } from './gpu-clock';
import { mergeIntervals, unionMs } from './intervals';

/** Busy stretches closer than this are drawn as one bar. */
const DRAW_GAP_MS = 0.5;
const MAX_DRAWN = 400;

/**
 * Intervals that ended before the cell started are left out (the GPU finished them while no
 * report was made); the rest count from the cell's start, overlaps once.
 */
export function gpuUse(times: { intervals: GpuInterval[]; clock: GpuClock } | undefined, cellStart: number, cell: number): GpuUse | null {
  if (!times) return null;
  const within = times.intervals.filter((interval) => interval.end > cellStart)
    .map((interval) => ({ ...interval, start: Math.max(interval.start, cellStart) }));
  const earlier = within.filter((interval) => interval.cell < cell);
  const spans = mergeIntervals(within, DRAW_GAP_MS).map(([start, end]): [number, number] => [start - cellStart, end - cellStart]);
  return {
    ms: unionMs(within),
    source: times.clock.source,
    earlierCellsMs: unionMs(earlier),
    earlierCells: [...new Set(earlier.map((interval) => interval.cell))].sort((a, b) => a - b),
    stillBusy: times.clock.pending,
    spans: spans.length > MAX_DRAWN ? mergeIntervals(spans.map(([start, end]) => ({ start, end })), (spans.at(-1)![1] - spans[0]![0]) / MAX_DRAWN) : spans,
  };
}
