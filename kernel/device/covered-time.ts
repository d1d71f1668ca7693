// Wall-clock time of a set of moves, as the cell's report line and %transfers both count it:
// overlapping moves (a Promise.all of reads) once, split into the time some move was copying and
// the time moves only waited, and that wait into what it was for. Moves too many to keep one by one
// are folded into running unions, so a loop of 200,000 moves is counted the same way.
import { RunningUnion, unionMs } from './timing/intervals';

/**
 * One stretch of a move's wait and what it waited for; a move's waits run one after another from
 * its start, those `afterCopy` from the copy's end, around those placed `from` its start.
 */
export interface WaitPart {
  /** What the wait was for, as the caller names it (cause, device, earlier cells). */
  key: string;
  ms: number;
  afterCopy?: boolean;
  /** Where the wait lay, in ms from the move's start, when that is known (a collection's). */
  from?: number;
}

/** A wait part as the report and ledger lay it out, from a move's wait. */
export function waitPart(wait: { cause: string; device: string; earlierCells: readonly number[]; ms: number; afterCopy?: boolean; from?: number }): WaitPart {
  return { key: waitKey(wait), ms: wait.ms, afterCopy: wait.afterCopy === true, ...(wait.from === undefined ? {} : { from: wait.from }) };
}

/**
 * A timed move on one clock: started at `start`, waited (`waits`, in order), copied, then waited
 * again (its `afterCopy` waits: its answer on the way to the cell's code) until `end`; `waitMs` is
 * all of its waits.
 */
export interface TimedSpan {
  start: number;
  waitMs: number;
  end: number;
  waits?: readonly WaitPart[];
}

/** The time a move's waits after its copy take (its answer's way back to the cell's code). */
export function afterCopyMs(waits: readonly { ms: number; afterCopy?: boolean }[] | undefined): number {
  let ms = 0;
  for (const wait of waits ?? []) if (wait.afterCopy === true) ms += wait.ms;
  return ms;
}

/** Where a move's copy ran: after its waits before it, up to its waits after it. */
export function copyOf(span: Omit<TimedSpan, 'waits'> & { waits?: readonly { ms: number; afterCopy?: boolean }[] }): { start: number; end: number } {
  const after = afterCopyMs(span.waits);
  return { start: span.start + span.waitMs - after, end: span.end - after };
}

/**
 * Each of the move's waits as stretches of time: those placed (`from`) where they lay; the others
 * in order, those before its copy from its start on, those after from the copy's end, each going
 * around the placed ones, so that together they fill the move's time outside its copy once.
 */
function waitStretches(span: TimedSpan, copyEnd: number): { key: string; start: number; end: number }[] {
  const waits = span.waits ?? [];
  const placed = waits.filter((wait) => wait.from !== undefined)
    .map((wait) => ({ key: wait.key, start: span.start + wait.from!, end: span.start + wait.from! + wait.ms }));
  const stretches = [...placed];
  const around = [...placed].sort((a, b) => a.start - b.start);
  const cursors = { before: span.start, after: copyEnd };
  for (const wait of waits) {
    if (wait.from !== undefined) continue;
    const side = wait.afterCopy === true ? 'after' : 'before';
    let at = cursors[side];
    let left = wait.ms;
    for (const piece of around) {
      if (left <= 0) break;
      if (piece.end <= at) continue;
      if (piece.start >= at + left) break;
      if (piece.start > at) {
        stretches.push({ key: wait.key, start: at, end: piece.start });
        left -= piece.start - at;
      }
      at = piece.end;
    }
    if (left > 0) stretches.push({ key: wait.key, start: at, end: at + left });
    cursors[side] = at + Math.max(0, left);
  }
  return stretches;
}

/**
 * Where a wait key's part comes in the order parts are counted (each counts what the copies and
 * the keys before it did not cover): a collection's stretches lie where it did, the others' only
 * in order, so where they overlap the collection's are the ones that are known.
 */
function keyRank(key: string): number {
  return key.startsWith('gc|') ? 0 : 1;
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
  /** Per wait key, collections' first, then in the order first seen (keyRank), the time its stretches cover that no copy and no key before it does. */
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
   * Per wait key, collections' first, then in the order first seen (keyRank): the copies with the stretches of that key and of every
   * key before it. Each key's part is what its union adds to the one before, so overlapping waits
   * of two keys count once (for the key seen first) and the parts add up to the wait.
   */
  private readonly prefixes: { key: string; union: RunningUnion }[] = [];
  end = -Infinity;

  add(span: TimedSpan): void {
    this.busy.add(span.start, span.end);
    const copy = copyOf(span);
    this.copying.add(copy.start, copy.end);
    for (const wait of waitStretches(span, copy.end)) {
      let index = this.prefixes.findIndex((prefix) => prefix.key === wait.key);
      if (index < 0) {
        // A new key has no stretches yet: where it goes, its union is the one before it.
        index = this.prefixes.findIndex((prefix) => keyRank(prefix.key) > keyRank(wait.key));
        if (index < 0) index = this.prefixes.length;
        this.prefixes.splice(index, 0, { key: wait.key, union: (this.prefixes[index - 1]?.union ?? this.copying).clone() });
      }
      for (let k = index; k < this.prefixes.length; k++) this.prefixes[k]!.union.add(wait.start, wait.end);
    }
    for (const prefix of this.prefixes) prefix.union.add(copy.start, copy.end);
    this.end = Math.max(this.end, span.end);
  }

  get ms(): number {
    return this.busy.total;
  }

  get copyMs(): number {
    return this.copying.total;
  }

  /** Each key's wait that no copy and no key before it covered, in keyRank's order. */
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
  const copyOfEach = spans.map(copyOf);
  const copies = kept(copyOfEach.map((copy) => clipped(copy.start, copy.end)));
  const ms = (folded?.ms ?? 0) + unionMs(kept(spans.map((span) => clipped(span.start, span.end))));
  const copyMs = (folded?.copyMs ?? 0) + unionMs(copies);
  // Keys in the folded moves' order, then as first seen: each key's part is the time its stretches
  // add to the copies and the keys before it, so that overlapping waits count once.
  const stretches = new Map<string, Interval[]>([...(folded?.waits.keys() ?? [])].map((key) => [key, []]));
  for (const [index, span] of spans.entries()) {
    for (const wait of waitStretches(span, copyOfEach[index]!.end)) {
      const list = stretches.get(wait.key) ?? [];
      list.push(clipped(wait.start, wait.end));
      stretches.set(wait.key, list);
    }
  }
  const waits = new Map<string, number>();
  let covered = copies;
  for (const [key, list] of [...stretches].sort(([a], [b]) => keyRank(a) - keyRank(b))) {
    const part = outsideMs(kept(list), covered);
    covered = [...covered, ...kept(list)];
    waits.set(key, (folded?.waits.get(key) ?? 0) + part);
  }
  return { ms, copyMs: Math.min(copyMs, ms), waitMs: Math.max(0, ms - copyMs), waits };
}
