// A GPU's busy time during one cell, as the report shows it: from the intervals its clock read.
import type { GpuUse } from '../../display/report/cell-report';
import { DETACHED_CELL } from '../../interpreter/cell-hooks';
import type { GpuClock, GpuInterval, RanBefore } from './gpu-clock';
import { mergeIntervals, unionMs } from './intervals';

/** Only touching stretches are drawn as one bar: joining close ones would draw their idle gaps as busy. */
const DRAW_GAP_MS = 0;
const MAX_DRAWN = 400;

/**
 * The intervals that arrived since the last report, clipped to this cell's window (from its start
 * to its report): only what ran during the cell is its GPU time, overlaps once. An earlier cell's
 * work that arrives here may have run partly before this cell began (between cells, or during that
 * cell after its last read, once its report was out): that part is not this cell's time, and no
 * report shows it otherwise, so it is given apart (`ranBeforeMs`, with the cells that queued it).
 * A cell showed "GPU 4,242 ms" in a 4,152 ms window when it counted such work whole. Work whose
 * times cells without a report took (`ranBefore`) ran before this cell began, all of it.
 */
export function gpuUse(times: { intervals: GpuInterval[]; ranBefore?: RanBefore; clock: GpuClock; untimedPasses?: number; heldBack?: boolean } | undefined,
  window: { start: number; end: number }, cell: number): GpuUse | null {
  if (!times) return null;
  // Detached work is no cell's: no report counts it, here or as earlier cells' work.
  const arrived = times.intervals.filter((interval) => interval.cell !== DETACHED_CELL);
  const within = arrived.map((interval) => ({ ...interval, start: Math.max(interval.start, window.start), end: Math.min(interval.end, window.end) }))
    .filter((interval) => interval.end > interval.start);
  const detachedMs = unionMs(times.intervals.filter((interval) => interval.cell === DETACHED_CELL)
    .map((interval) => ({ start: Math.max(interval.start, window.start), end: Math.min(interval.end, window.end) })).filter((interval) => interval.end > interval.start));
  const earlier = within.filter((interval) => interval.cell < cell);
  const before = arrived.filter((interval) => interval.start < window.start)
    .map((interval) => ({ ...interval, end: Math.min(interval.end, window.start) }));
  const spans = mergeIntervals(within, DRAW_GAP_MS).map(([start, end]): [number, number] => [start - window.start, end - window.start]);
  const queuedBy = times.clock.pending ? times.clock.pendingCells() : [];
  // Busy only with detached work: nothing of a cell's is still to come.
  const stillBusy = times.clock.pending && times.heldBack !== true && queuedBy.some((queued) => queued !== DETACHED_CELL);
  // Busy only with earlier cells' work (a cell whose ops tfjs ran on the host): its own time is not pending.
  const pendingCells = stillBusy ? queuedBy.filter((queued) => queued !== DETACHED_CELL) : [];
  const busyWithOthers = pendingCells.length > 0 && !pendingCells.includes(cell) ? { busyWithOthers: [...pendingCells].sort((a, b) => a - b) } : {};
  return {
    ms: unionMs(within),
    source: times.clock.source,
    earlierCellsMs: unionMs(earlier),
    earlierCells: cellsOf(earlier),
    ranBeforeMs: unionMs(before) + (times.ranBefore?.ms ?? 0),
    ranBeforeCells: [...new Set([...cellsOf(before), ...(times.ranBefore?.cells ?? [])])].sort((a, b) => a - b),
    // Work tfjs held until the cell ended, on a GPU done with the rest: not busy at the end, held back.
    stillBusy,
    ...busyWithOthers,
    ...(times.clock.pending && times.heldBack === true ? { heldBack: true } : {}),
    untimedPasses: times.untimedPasses ?? 0,
    ...(detachedMs > 0 ? { detachedMs } : {}),
    spans: drawnSpans(spans, MAX_DRAWN),
  };
}

function cellsOf(intervals: readonly GpuInterval[]): number[] {
  return [...new Set(intervals.map((interval) => interval.cell))].sort((a, b) => a - b);
}

/**
 * At most `most` bars for sorted, disjoint busy spans, drawing exactly their busy time. Merging
 * spans closer than range/most filled the idle gaps between them (a cell's 1.25 s of GPU work drawn
 * over 5.2 s): instead the range is cut into `most` equal slots, and each slot's bar is its busy
 * time, from where its first work began. A bar stays inside its slot, so none overlap.
 */
export function drawnSpans(spans: [number, number][], most: number): [number, number][] {
  if (spans.length <= most) return spans;
  const first = spans[0]![0];
  const slot = (spans.at(-1)![1] - first) / most;
  if (!(slot > 0)) return [spans[0]!];
  const slots = new Map<number, { start: number; busy: number }>();
  for (const [start, end] of spans) {
    for (let index = Math.min(most - 1, Math.floor((start - first) / slot)); index < most; index++) {
      const [from, to] = [first + index * slot, index === most - 1 ? end : first + (index + 1) * slot];
      const busy = Math.min(end, to) - Math.max(start, from);
      if (busy > 0) {
        const known = slots.get(index) ?? { start: Math.max(start, from), busy: 0 };
        known.busy += busy;
        slots.set(index, known);
      }
      if (end <= to) break;
    }
  }
  return [...slots.values()].map(({ start, busy }): [number, number] => [start, start + busy]);
}
