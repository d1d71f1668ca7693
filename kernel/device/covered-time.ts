// Wall-clock time of a set of moves, as the cell's report line and %transfers both count it:
// overlapping moves (a Promise.all of reads) once, split into the time some move was copying and
// the time moves only waited, and that wait into what it was for. Moves too many to keep one by one
// are folded into running unions, so a loop of 200,000 moves is counted the same way.
import { RunningUnion, unionMs } from './timing/intervals';

/** One stretch of a move's wait and what it waited for; a move's waits run one after another from its start. */
export interface WaitPart {
  /** What the wait was for, as the caller names it (cause, device, earlier cells). */
  key: string;
  ms: number;
}

/** A timed move on one clock: started at `start`, waited `waitMs` (in `waits`, in order), then copied until `end`. */
export interface TimedSpan {
  start: number;
  waitMs: number;
  end: number;
  waits?: readonly WaitPart[];
}

export interface MovesTime {
  /** The union of the moves' intervals. */
  ms: number;
  /** The union of their copies (each from start + waitMs to end): the time at least one was copying. */
  copyMs: number;
  /** ms − copyMs: the time some move waited and none copied. */
  waitMs: number;
}

export interface MovesTimeAndWaits extends MovesTime {
  /** Per wait key, the time its stretches cover that no copy does. */
  waits: Map<string, number>;
}

/** Folded moves as movesTime needs them: their time, and where the last of them ended. */
export interface FoldedSpans {
  ms: number;
  copyMs: number;
  /** When the latest folded move ended; -Infinity before any. */
  end: number;
  /** Per wait key, the time its stretches cover that no copy does. */
  waits: ReadonlyMap<string, number>;
}

/**
 * Moves too many to keep one by one, added in the order they ended (the ledger's order): their
 * union runs as it goes, and where the last of them ended is kept, so that moves kept one by one
 * after them are counted only past it.
 */
export class FoldedTime implements FoldedSpans {
  private readonly busy = new RunningUnion();
  private readonly copying = new RunningUnion();
  /** Per wait key: its stretches and every copy since the key was first seen (begun as a copy of `copying`). */
  private readonly causes = new Map<string, RunningUnion>();
  end = -Infinity;

  add(span: TimedSpan): void {
    this.busy.add(span.start, span.end);
    const copyStart = span.start + span.waitMs;
    this.copying.add(copyStart, span.end);
    let at = span.start;
    for (const wait of span.waits ?? []) {
      let union = this.causes.get(wait.key);
      if (union === undefined) {
        union = this.copying.clone();
        this.causes.set(wait.key, union);
      }
      union.add(at, at + wait.ms);
      at += wait.ms;
    }
    for (const union of this.causes.values()) union.add(copyStart, span.end);
    this.end = Math.max(this.end, span.end);
  }

  get ms(): number {
    return this.busy.total;
  }

  get copyMs(): number {
    return this.copying.total;
  }

  /** |stretches ∪ copies| − |copies|: each key's wait that no copy covered. */
  get waits(): Map<string, number> {
    return new Map([...this.causes].map(([key, union]) => [key, Math.max(0, union.total - this.copying.total)]));
  }
}

/**
 * What a wait was for, as the report line groups waits: GPU work earlier cells queued stays apart
 * from later work, whatever the cells.
 */
export function waitKey(wait: { cause: string; device: string; earlierCells: readonly number[] }): string {
  return `${wait.cause}|${wait.device}|${wait.earlierCells.length > 0}`;
}

type Interval = { start: number; end: number };

/** Time in `part` outside `cover`: |part ∪ cover| − |cover|. */
function outsideMs(part: Interval[], cover: Interval[]): number {
  return Math.max(0, unionMs([...part, ...cover]) - unionMs(cover));
}

/**
 * Time of moves kept one by one (`spans`) together with older ones folded before them. A kept move
 * that started before the last folded one ended is counted from that end on: the folded stretches
 * are no longer known one by one, and counting that part again could exceed the time that passed.
 */
export function movesTime(spans: readonly TimedSpan[], folded?: FoldedSpans): MovesTimeAndWaits {
  const after = folded?.end ?? -Infinity;
  const clipped = (start: number, end: number): Interval => ({ start: Math.max(start, after), end });
  const kept = (intervals: Interval[]): Interval[] => intervals.filter((span) => span.end > span.start);
  const copies = kept(spans.map((span) => clipped(span.start + span.waitMs, span.end)));
  const ms = (folded?.ms ?? 0) + unionMs(kept(spans.map((span) => clipped(span.start, span.end))));
  const copyMs = (folded?.copyMs ?? 0) + unionMs(copies);
  const stretches = new Map<string, Interval[]>();
  for (const span of spans) {
    let at = span.start;
    for (const wait of span.waits ?? []) {
      const list = stretches.get(wait.key) ?? [];
      list.push(clipped(at, at + wait.ms));
      stretches.set(wait.key, list);
      at += wait.ms;
    }
  }
  const waits = new Map(folded?.waits ?? []);
  for (const [key, list] of stretches) waits.set(key, (waits.get(key) ?? 0) + outsideMs(kept(list), copies));
  return { ms, copyMs: Math.min(copyMs, ms), waitMs: Math.max(0, ms - copyMs), waits };
}
