// A GPU's busy time during one cell, as the report shows it: from the intervals its clock read.
import type { GpuUse } from '../../display/report/cell-report';
import type { GpuClock, GpuInterval } from './gpu-clock';
import { mergeIntervals, unionMs } from './intervals';

/** Busy stretches closer than this are drawn as one bar. */
const DRAW_GAP_MS = 0.5;
const MAX_DRAWN = 400;

/**
 * Every interval that arrived since the last report counts whole, overlaps once: work an earlier
 * cell queued that ran (partly or wholly) before this cell started is shown nowhere else, so it
 * counts here as queued by that cell. Only the drawn bars are clipped to this cell's time.
 */
export function gpuUse(times: { intervals: GpuInterval[]; clock: GpuClock; untimedPasses?: number; heldBack?: boolean } | undefined, cellStart: number,
  cell: number): GpuUse | null {
  if (!times) return null;
  const arrived = times.intervals;
  const earlier = arrived.filter((interval) => interval.cell < cell);
  const within = arrived.filter((interval) => interval.end > cellStart)
    .map((interval) => ({ ...interval, start: Math.max(interval.start, cellStart) }));
  const spans = mergeIntervals(within, DRAW_GAP_MS).map(([start, end]): [number, number] => [start - cellStart, end - cellStart]);
  return {
    ms: unionMs(arrived),
    source: times.clock.source,
    earlierCellsMs: unionMs(earlier),
    earlierCells: [...new Set(earlier.map((interval) => interval.cell))].sort((a, b) => a - b),
    // Work tfjs held until the cell ended, on a GPU done with the rest: not busy at the end, held back.
    stillBusy: times.clock.pending && times.heldBack !== true,
    ...(times.clock.pending && times.heldBack === true ? { heldBack: true } : {}),
    untimedPasses: times.untimedPasses ?? 0,
    spans: spans.length > MAX_DRAWN ? mergeIntervals(spans.map(([start, end]) => ({ start, end })), (spans.at(-1)![1] - spans[0]![0]) / MAX_DRAWN) : spans,
  };
}
