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
  /** Per wait key, the time its stretches cover that no copy and no key before it does: the parts add up to waitMs. */
  waits: Map<string, number>;
}

/** Folded moves as movesTime needs them: their time, and where the last of them ended. */
export interface FoldedSpans {
  ms: number;
  copyMs: number;
  /** When the latest folded move ended; -Infinity before any. */
  end: number;
  /** Per wait key, in the order first seen, the time its stretches cover that no copy and no key before it does. */
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
  /**
   * Per wait key, in the order first seen: the copies with the stretches of that key and of every
   * key before it. Each key's part is what its union adds to the one before, so overlapping waits
   * of two keys count once (for the key seen first) and the parts add up to the wait.
   */
  private readonly prefixes: { key: string; union: RunningUnion }[] = [];
  end = -Infinity;

  add(span: TimedSpan): void {
    this.busy.add(span.start, span.end);
    const copyStart = span.start + span.waitMs;
    this.copying.add(copyStart, span.end);
    let at = span.start;
    for (const wait of span.waits ?? []) {
      let index = this.prefixes.findIndex((prefix) => prefix.key === wait.key);
      if (index < 0) {
        index = this.prefixes.push({ key: wait.key, union: (this.prefixes.at(-1)?.union ?? this.copying).clone() }) - 1;
      }
      for (let k = index; k < this.prefixes.length; k++) this.prefixes[k]!.union.add(at, at + wait.ms);
      at += wait.ms;
    }
    for (const prefix of this.prefixes) prefix.union.add(copyStart, span.end);
    this.end = Math.max(this.end, span.end);
  }

  get ms(): number {
    return this.busy.total;
  }

  get copyMs(): number {
    return this.copying.total;
  }

  /** Each key's wait that no copy and no key seen before it covered, in the order first seen. */
  get waits(): Map<string, number> {
    return new Map(this.prefixes.map(({ key, union }, k) => [key, Math.max(0, union.total - (k === 0 ? this.copying : this.prefixes[k - 1]!.union).total)]));
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
  // Keys in the folded moves' order, then as first seen: each key's part is the time its stretches
  // add to the copies and the keys before it, so that overlapping waits count once.
  const stretches = new Map<string, Interval[]>([...(folded?.waits.keys() ?? [])].map((key) => [key, []]));
  for (const span of spans) {
    let at = span.start;
    for (const wait of span.waits ?? []) {
      const list = stretches.get(wait.key) ?? [];
      list.push(clipped(at, at + wait.ms));
      stretches.set(wait.key, list);
      at += wait.ms;
    }
  }
  const waits = new Map<string, number>();
  let covered = copies;
  for (const [key, list] of stretches) {
    const part = outsideMs(kept(list), covered);
    covered = [...covered, ...kept(list)];
    waits.set(key, (folded?.waits.get(key) ?? 0) + part);
  }
  return { ms, copyMs: Math.min(copyMs, ms), waitMs: Math.max(0, ms - copyMs), waits };
}
