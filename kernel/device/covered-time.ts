// Wall-clock time of a set of moves, as the cell's report line counts it: overlapping moves (a
// Promise.all of reads) once, split into the time some move was copying and the time moves only
// waited. %transfers' rows and total are these, so no figure there exceeds the time that passed.
import { RunningUnion, unionMs } from './timing/intervals';

/** A timed move on one clock: started at `start`, waited `waitMs`, then copied until `end`. */
export interface TimedSpan {
  start: number;
  waitMs: number;
  end: number;
}

export interface MovesTime {
  /** The union of the moves' intervals. */
  ms: number;
  /** The union of their copies (each from start + waitMs to end): the time at least one was copying. */
  copyMs: number;
  /** ms − copyMs: the time some move waited and none copied. */
  waitMs: number;
}

/**
 * Moves too many to keep one by one, added in the order they ended (the ledger's order): their
 * union runs as it goes, and where the last of them ended is kept, so that moves kept one by one
 * after them are counted only past it.
 */
export class FoldedTime {
  private readonly busy = new RunningUnion();
  private readonly copying = new RunningUnion();
  /** When the latest folded move ended; -Infinity before any. */
  end = -Infinity;

  add(span: TimedSpan): void {
    this.busy.add(span.start, span.end);
    this.copying.add(span.start + span.waitMs, span.end);
    this.end = Math.max(this.end, span.end);
  }

  get ms(): number {
    return this.busy.total;
  }

  get copyMs(): number {
    return this.copying.total;
  }
}

/**
 * Time of moves kept one by one (`spans`) together with older ones folded before them. A kept move
 * that started before the last folded one ended is counted from that end on: the folded stretches
 * are no longer known one by one, and counting that part again could exceed the time that passed.
 */
export function movesTime(spans: readonly TimedSpan[], folded?: FoldedTime): MovesTime {
  const after = folded?.end ?? -Infinity;
  const clipped = (start: number, end: number): { start: number; end: number } => ({ start: Math.max(start, after), end });
  const ms = (folded?.ms ?? 0) + unionMs(spans.map((span) => clipped(span.start, span.end)).filter((span) => span.end > span.start));
  const copyMs = (folded?.copyMs ?? 0)
    + unionMs(spans.map((span) => clipped(span.start + span.waitMs, span.end)).filter((span) => span.end > span.start));
  return { ms, copyMs: Math.min(copyMs, ms), waitMs: Math.max(0, ms - copyMs) };
}
