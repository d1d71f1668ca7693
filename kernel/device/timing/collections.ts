// Garbage collections the thread paused for, and the part of moves' waits they were. A collection
// stops the thread: a move whose GPU work ended meanwhile is seen late, and the kernel's rules
// counted that as host busy, "the host running other code, which this does not save". But a
// `Promise.all` of 200 uploads met a 12.8–14.4 ms full collection in every run, made by the moves'
// own allocations (fewer, larger moves make fewer), so the report names it for what it was.
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { copyOf } from '../covered-time';
import type { MoveWait } from '../device-control';
import type { Span } from './host-away';
import { intersect, spansMs, subtract } from './intervals';

/** Enough for the collections of a long cell (a scavenge every few ms); older ones go. */
const PAUSES_KEPT = 4096;

/**
 * The thread's collections, on performance.now()'s clock (a `gc` entry's startTime is). Node
 * makes a collection's entry in the event loop's next turn after it, so `settle()` waits for one.
 */
class CollectionPauses {
  /** Disjoint (one thread collects at a time) and in order. */
  private readonly pauses: Span[] = [];
  private readonly observer: PerformanceObserver | null;

  constructor() {
    let observer: PerformanceObserver | null = null;
    try {
      observer = new PerformanceObserver((list) => this.take(list.getEntries()));
      observer.observe({ entryTypes: ['gc'] });
    } catch {
      // A Node without `gc` entries: collections stay in host busy, as before.
      observer = null;
    }
    this.observer = observer;
  }

  private take(entries: readonly PerformanceEntry[]): void {
    for (const entry of entries) {
      const pause = { start: entry.startTime, end: entry.startTime + entry.duration };
      if (pause.end <= pause.start) continue;
      // The observer's callback and takeRecords() hand each entry once, in order; a late one goes where it belongs.
      let index = this.pauses.length;
      while (index > 0 && this.pauses[index - 1]!.start > pause.start) index--;
      this.pauses.splice(index, 0, pause);
    }
    if (this.pauses.length > PAUSES_KEPT) this.pauses.splice(0, this.pauses.length - PAUSES_KEPT);
  }

  /** After this, every collection that ended before the call is known. */
  async settle(): Promise<void> {
    if (this.observer === null) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.take(this.observer.takeRecords());
  }

  /** The collections' time inside `span`, clipped to it. */
  within(span: Span): Span[] {
    const inside: Span[] = [];
    for (let index = this.pauses.length - 1; index >= 0; index--) {
      const pause = this.pauses[index]!;
      if (pause.end <= span.start) break;
      if (pause.start < span.end) inside.unshift({ start: Math.max(pause.start, span.start), end: Math.min(pause.end, span.end) });
    }
    return inside;
  }
}

/** What nameCollections needs of a move: its timed parts, changed in place. */
export interface CollectedMove {
  to: string;
  ms: number;
  waitMs: number;
  copyMs: number;
  waits: MoveWait[];
  untimed?: boolean;
  legs?: unknown[];
}

/**
 * Takes the collections `pieces` (as much of them, in order, as the move's `cause` waits on that
 * side of its copy hold) out of those waits into `gc` waits, each where its collection lay (`from`
 * the move's start). The move's time is unchanged.
 */
function takeFrom(move: CollectedMove, start: number, cause: MoveWait['cause'], afterCopy: boolean, pieces: readonly Span[], most: number): number {
  const side = move.waits.filter((wait) => wait.cause === cause && (wait.afterCopy === true) === afterCopy);
  let left = Math.min(side.reduce((sum, wait) => sum + wait.ms, 0), spansMs(pieces), most);
  const took = left;
  if (!(left > 0.001)) return 0;
  const device = side[0]!.device;
  const collected: MoveWait[] = [];
  for (const piece of pieces) {
    const ms = Math.min(piece.end - piece.start, left);
    if (ms <= 0.001) break;
    left -= ms;
    collected.push({ cause: 'gc', ms, device, earlierCells: [], from: piece.start - start, ...(afterCopy ? { afterCopy: true as const } : {}) });
  }
  let taking = collected.reduce((sum, wait) => sum + wait.ms, 0);
  move.waits = move.waits.flatMap((wait) => {
    if (!side.includes(wait) || taking <= 0) return [wait];
    const taken = Math.min(wait.ms, taking);
    taking -= taken;
    return wait.ms - taken > 0.001 ? [{ ...wait, ms: wait.ms - taken }] : [];
  });
  move.waits.push(...collected);
  return took;
}

/** Waits whose time the GPU's work or timestamps set: they ran on whether the thread was paused or not. */
const GPU_TIMED = new Set<MoveWait['cause']>(['gpu-work', 'gpu-latency', 'gpu-setup', 'staging-setup']);

/**
 * The collections a cell's moves met, named in their waits at the cell's end (their entries are in
 * by then). On each side of a move's copy, a collection while the kernel worked on calls
 * (`kernelWork`) was counted as tsgpu overhead, and at any other time as host busy: as much as
 * there is of each becomes `gc`. Only what is sure: a side's waits are known by length, not by
 * place, and a collection while the move waited for the GPU (its work, latency or set-up, timed by
 * the GPU) held nothing up, so of a side with such waits, only the collection's time beyond them
 * is named (a read whose cell collected for 320 ms of its 1200 ms of GPU work, then blocked for
 * 300 ms after it, showed those 300 ms as garbage collection). Where the kernel's work is no longer
 * known (its oldest entries went, in a cell of thousands of moves), nothing is named: which part
 * was tsgpu overhead cannot be told. One during a copy made on the thread (a small upload's write)
 * was counted as copy: it becomes `gc`, laid just before the copy (the write itself takes
 * microseconds). One during any other copy stays copy: the GPU copied meanwhile.
 */
export class CollectionWaits {
  private readonly pauses = new CollectionPauses();
  private readonly copiedOnThread = new WeakSet<CollectedMove>();

  constructor(private readonly kernelWork: (span: Span) => Span[], private readonly kernelWorkKnownFrom: () => number = () => -Infinity) {}

  /** The move's copy was one call on the thread (MoveTiming.copyOnThread). */
  copiedOnThreadBy(move: CollectedMove): void {
    this.copiedOnThread.add(move);
  }

  /**
   * Not for moves between GPUs (their legs are timed apart) and not for moves folded before the
   * cell ended (their figures are in their line already). `start`: on performance.now()'s clock.
   */
  async name(moves: readonly { move: CollectedMove; start: number }[]): Promise<void> {
    if (moves.length === 0) return;
    await this.settle();
    this.nameSettled(moves);
  }

  /** After this, every collection that ended before the call is known (one event-loop turn). */
  async settle(): Promise<void> {
    await this.pauses.settle();
  }

  /** name(), for collections known by an earlier settle(). */
  nameSettled(moves: readonly { move: CollectedMove; start: number }[]): void {
    for (const { move, start } of moves) {
      if (move.untimed === true || move.legs !== undefined) continue;
      // As the report lays a move out: its waits before the copy from its start, those after it up to its end.
      const end = start + move.ms;
      const copy = copyOf({ start, waitMs: move.waitMs, end, waits: move.waits });
      for (const [side, afterCopy] of [[{ start, end: copy.start }, false], [{ start: copy.end, end }, true]] as const) {
        if (!(side.end > side.start)) continue;
        const collecting = this.pauses.within(side);
        if (collecting.length === 0 || side.start < this.kernelWorkKnownFrom()) continue;
        const gpuTimed = move.waits.filter((wait) => GPU_TIMED.has(wait.cause) && (wait.afterCopy === true) === afterCopy).reduce((sum, wait) => sum + wait.ms, 0);
        let sure = spansMs(collecting) - gpuTimed;
        if (!(sure > 0.001)) continue;
        // Asked only where the collections were: a move's side in a Promise.all of 6,000 spans every
        // other call's work, and listing all of it for each move took 1.2 s at the cell's end.
        const working = collecting.flatMap((pause) => this.kernelWork(pause));
        sure -= takeFrom(move, start, 'host-busy', afterCopy, subtract(collecting, working), sure);
        takeFrom(move, start, 'tsgpu', afterCopy, intersect(collecting, working), sure);
      }
      if (this.copiedOnThread.has(move)) this.takeFromCopy(move, start, copy);
    }
  }

  private takeFromCopy(move: CollectedMove, start: number, copy: Span): void {
    const ms = Math.min(move.copyMs, spansMs(this.pauses.within(copy)));
    if (!(ms > 0.001)) return;
    move.copyMs -= ms;
    move.waitMs += ms;
    move.waits.push({ cause: 'gc', ms, device: move.to, earlierCells: [], from: copy.start - start });
  }
}
