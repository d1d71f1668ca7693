// Every move between devices, implicit or explicit, with its exact size and the cell line that
// caused it. The newest moves are kept one by one; older ones are folded into one line per place
// and kind of move (a loop of 200,000 moves keeps memory flat). "The last cell's" moves are what
// the report and %transfers show.
import type { FoldedMoves, TransferRecord } from './device-control';
import { RunningUnion } from './timing/intervals';

/** Moves kept one by one; at twice this many, the older half is folded. */
const KEEP = 10_000;

function keyOf(record: TransferRecord): string {
  return `${record.direction}|${record.from}|${record.to}|${record.cause}|${record.operation}|${record.cell}|${record.line}|${record.untimed === true}`;
}

function fold(into: Map<string, FoldedMoves>, record: TransferRecord): void {
  const key = keyOf(record);
  const entry = into.get(key) ?? {
    direction: record.direction, from: record.from, to: record.to, cause: record.cause, operation: record.operation,
    cell: record.cell, line: record.line, count: 0, bytes: 0, ms: 0, waitMs: 0, copyMs: 0,
    ...(record.untimed === undefined ? {} : { untimed: record.untimed }),
  };
  entry.count++;
  entry.bytes += record.bytes;
  entry.ms += record.ms;
  entry.waitMs += record.waitMs;
  entry.copyMs += record.copyMs;
  into.set(key, entry);
}

export class TransferLedger {
  private records: TransferRecord[] = [];
  private cellStart = 0;
  private last: TransferRecord[] = [];
  private lastFolded: FoldedMoves[] = [];
  /** Older moves of the session, one entry per kind and place. */
  private folded = new Map<string, FoldedMoves>();
  /** The running cell's moves that were folded before it ended. */
  private cellFolded = new Map<string, FoldedMoves>();
  private foldedCount = 0;
  /** Running totals since the session started (reset does not touch them: progress bars diff them). */
  private total = { count: 0, bytes: 0 };
  /** Time the session's moves took, overlapping moves once (as the report counts them). */
  private readonly busy = new RunningUnion();
  /** When the running cell started: records' `at` counts from there. */
  private cellStartedAt = 0;

  add(record: TransferRecord): void {
    this.records.push(record);
    this.total = { count: this.total.count + 1, bytes: this.total.bytes + record.bytes };
    const start = this.cellStartedAt + record.at;
    this.busy.add(start, start + record.ms);
    if (this.records.length >= 2 * KEEP) this.foldOldest(KEEP);
  }

  private foldOldest(count: number): void {
    const oldest = this.records.splice(0, count);
    for (let i = 0; i < oldest.length; i++) {
      const record = oldest[i]!;
      fold(this.folded, record);
      if (i >= this.cellStart) fold(this.cellFolded, record);
    }
    this.foldedCount += oldest.length;
    this.cellStart = Math.max(0, this.cellStart - count);
  }

  /** Moves so far: their count, bytes, and the time they took with overlaps counted once. */
  totals(): { count: number; bytes: number; ms: number } {
    return { ...this.total, ms: this.busy.total };
  }

  /** `startedAt`: the cell's start on performance.now()'s clock, which records' `at` counts from. */
  beginCell(startedAt = 0): void {
    this.cellStartedAt = startedAt;
    this.cellStart = this.records.length;
    this.cellFolded = new Map();
  }

  /** A cell that ran ops or moved tensors becomes "the last cell", even if it moved nothing. */
  endCell(ranOps: boolean): { moves: TransferRecord[]; folded: FoldedMoves[] } {
    const moves = this.records.slice(this.cellStart);
    const folded = [...this.cellFolded.values()];
    if (ranOps || moves.length > 0 || folded.length > 0) {
      this.last = moves;
      this.lastFolded = folded;
    }
    return { moves, folded };
  }

  lastCell(): { moves: TransferRecord[]; folded: FoldedMoves[] } {
    return { moves: [...this.last], folded: [...this.lastFolded] };
  }

  all(): { moves: TransferRecord[]; folded: FoldedMoves[]; foldedCount: number } {
    return { moves: [...this.records], folded: [...this.folded.values()], foldedCount: this.foldedCount };
  }

  reset(): void {
    this.records = [];
    this.last = [];
    this.lastFolded = [];
    this.folded = new Map();
    this.cellFolded = new Map();
    this.foldedCount = 0;
    this.cellStart = 0;
  }
}
