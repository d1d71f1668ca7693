// Every move between devices, implicit or explicit, with its exact size and the cell line that
// caused it. The newest moves are kept one by one; older ones are folded into one line per place
// and kind of move (a loop of 200,000 moves keeps memory flat). "The last cell's" moves are what
// the report and %transfers show.
import type { FoldedMoves, FoldedTimeOf, MoveWait, TransferListing, TransferRecord } from './device-control';
import { FoldedTime, type MovesTime, movesTime, type TimedSpan, waitKey, waitPart } from './covered-time';
import { RunningUnion } from './timing/intervals';

/**
 * Moves kept one by one; at twice this many, the older half is folded. Folding a record takes
 * 25–35 µs (its time joins running unions): 230–350 ms at once, noted as the kernel's work. Folding
 * 500 at a time past 10,500 took 15–120 ms each, and left more of a long cell's moves folded before
 * its end, with their GPU waits unsplit (folded reads booked queue latency as GPU work).
 */
const KEEP = 10_000;

function keyOf(record: TransferRecord): string {
  return `${record.direction}|${record.from}|${record.to}|${record.cause}|${record.operation}|${record.cell}|${record.line}|${record.untimed === true}|${record.scalar}`;
}

/** The folded row of `record`'s kind, before any move is counted in it. */
function noneYet(record: TransferRecord): FoldedMoves {
  return {
    direction: record.direction, from: record.from, to: record.to, cause: record.cause, operation: record.operation,
    cell: record.cell, line: record.line, count: 0, bytes: 0, ms: 0, waitMs: 0, copyMs: 0,
    ...(record.untimed === undefined ? {} : { untimed: record.untimed }),
    ...(record.scalar ? { scalar: true as const } : {}),
  };
}

/** A timed move on the session's clock (performance.now()); null for an upload whose time was not measured. */
function spanOf(record: TransferRecord, start: number): TimedSpan | null {
  if (record.untimed) return null;
  return { start, waitMs: record.waitMs, end: start + record.ms, waits: record.waits.map(waitPart) };
}

/** %transfers' figures alone (its listing has no wait causes). */
function timeOnly({ ms, copyMs, waitMs }: MovesTime): MovesTime {
  return { ms, copyMs, waitMs };
}

/** One direction's folded moves, timed as one, and each wait key's cause, device and earlier cells. */
class FoldedDirection {
  readonly time = new FoldedTime();
  readonly waits = new Map<string, Omit<MoveWait, 'ms'>>();

  add(record: TransferRecord, span: TimedSpan): void {
    this.time.add(span);
    for (const wait of record.waits) {
      const key = waitKey(wait);
      const known = this.waits.get(key);
      const earlierCells = [...new Set([...(known?.earlierCells ?? []), ...wait.earlierCells])].sort((a, b) => a - b);
      this.waits.set(key, { cause: wait.cause, device: wait.device, earlierCells });
    }
  }

  /** As the report carries it: `cellStart` on the clock the moves were timed on. */
  report(direction: TransferRecord['direction'], cellStart: number): FoldedTimeOf {
    const waits = this.time.waits;
    return {
      direction, ms: this.time.ms, copyMs: this.time.copyMs, end: this.time.end - cellStart,
      waits: [...this.waits].map(([key, wait]) => ({ ...wait, ms: waits.get(key) ?? 0 })),
    };
  }
}

/** Moves folded per place and kind, each line with its wall-clock time, and the time of them all. */
class FoldedSet {
  readonly lines = new Map<string, { moves: FoldedMoves; time: FoldedTime }>();
  readonly time = new FoldedTime();
  /** The same moves' time per direction, for the report line (one summary per direction). */
  readonly directions = new Map<TransferRecord['direction'], FoldedDirection>();
  count = 0;

  add(record: TransferRecord, start: number): void {
    const key = keyOf(record);
    const line = this.lines.get(key) ?? {
      moves: noneYet(record),
      time: new FoldedTime(),
    };
    const entry = line.moves;
    entry.count++;
    entry.bytes += record.bytes;
    entry.ms += record.ms;
    entry.waitMs += record.waitMs;
    entry.copyMs += record.copyMs;
    this.lines.set(key, line);
    this.count++;
    const span = spanOf(record, start);
    if (span !== null) {
      line.time.add(span);
      this.time.add(span);
      const direction = this.directions.get(record.direction) ?? new FoldedDirection();
      direction.add(record, span);
      this.directions.set(record.direction, direction);
    }
  }

  /** Each direction's time, as the report carries it. */
  times(cellStart: number): FoldedTimeOf[] {
    return [...this.directions].map(([direction, time]) => time.report(direction, cellStart));
  }

  /** The lines as the report carries them: each move's own time summed. */
  moves(): FoldedMoves[] {
    return [...this.lines.values()].map((line) => ({ ...line.moves }));
  }
}

/**
 * %transfers' view of some moves: one row per place and kind (folded lines first, in the order
 * they were first seen), each row's and the total's time with overlapping moves once.
 */
function listingOf(moves: TransferRecord[], starts: number[], folded: FoldedSet): TransferListing {
  const rows = new Map<string, { row: FoldedMoves; spans: TimedSpan[]; folded?: FoldedTime }>();
  for (const [key, line] of folded.lines) rows.set(key, { row: { ...line.moves }, spans: [], folded: line.time });
  const spans: TimedSpan[] = [];
  moves.forEach((record, index) => {
    const key = keyOf(record);
    const known = rows.get(key) ?? {
      row: noneYet(record),
      spans: [],
    };
    known.row.count++;
    known.row.bytes += record.bytes;
    rows.set(key, known);
    const span = spanOf(record, starts[index]!);
    if (span === null) return;
    known.spans.push(span);
    spans.push(span);
  });
  return {
    moves,
    folded: folded.moves(),
    foldedCount: folded.count,
    rows: [...rows.values()].map(({ row, spans: own, folded: before }) => ({ ...row, ...timeOnly(movesTime(own, before)) })),
    time: timeOnly(movesTime(spans, folded.time)),
  };
}

export class TransferLedger {
  private records: TransferRecord[] = [];
  /** Each kept record's start on performance.now()'s clock (its `at` counts from its own cell's start). */
  private starts: number[] = [];
  private cellStart = 0;
  /** The running cell's number (beginCell), and the one `last` holds the moves of. */
  private cellNumber = 0;
  private lastCellNumber = 0;
  private last: TransferRecord[] = [];
  private lastStarts: number[] = [];
  private lastFolded = new FoldedSet();
  /** Older moves of the session, one entry per kind and place. */
  private folded = new FoldedSet();
  /** The running cell's moves that were folded before it ended. */
  private cellFolded = new FoldedSet();
  /**
   * Running totals since the session started, per cell whose code made the moves (reset does not
   * touch them: progress bars diff their own cell's; a bar counted an earlier cell's timer's uploads
   * as its steps'). `busy`: the time they took, overlapping moves once (as the report counts them).
   */
  private readonly totalsByCell = new Map<number, { count: number; bytes: number; untimed: number; busy: RunningUnion }>();
  /** When the running cell started: records' `at` counts from there. */
  private cellStartedAt = 0;

  /** Moves other cells' leftover work made while a cell ran: the session's, not that cell's report's. */
  private readonly strays = new WeakSet<TransferRecord>();
  /** Records folded into a line: their figures are in it, and no longer change. */
  private readonly foldedRecords = new WeakSet<TransferRecord>();

  /**
   * `stray`: made by another cell's leftover work while this cell runs (see strays), the code of
   * cell `madeBy`. True where older records were folded to make room.
   */
  add(record: TransferRecord, stray = false, madeBy = this.cellNumber): boolean {
    if (stray) this.strays.add(record);
    this.records.push(record);
    const start = this.cellStartedAt + record.at;
    this.starts.push(start);
    // The last cell's own move that ended after it (an interrupted cell's upload going on): %transfers shows it with that cell's.
    if (stray && record.cell === this.lastCellNumber) {
      this.last.push(record);
      this.lastStarts.push(start);
    }
    const totals = this.totalsOf(madeBy);
    totals.count++;
    totals.bytes += record.bytes;
    if (record.untimed) totals.untimed++;
    totals.busy.add(start, start + record.ms);
    if (this.records.length < 2 * KEEP) return false;
    this.foldOldest(KEEP);
    return true;
  }

  /**
   * A kept record's time runs on from its end (`end`, on performance.now()'s clock) by `waits`, after
   * its copy: its call's answer reached the cell's code after it was recorded (CallAnswers). They
   * are waits of their own, not added to earlier ones of the same cause, which came before the
   * copy. A folded record stays as it was folded.
   */
  lengthen(record: TransferRecord, end: number, waits: readonly Pick<MoveWait, 'cause' | 'ms' | 'device'>[], madeBy: number): void {
    if (this.foldedRecords.has(record)) return;
    const after = waits.filter((wait) => wait.ms > 0).map((wait): MoveWait => ({ ...wait, earlierCells: [], afterCopy: true }));
    const ms = after.reduce((sum, wait) => sum + wait.ms, 0);
    if (ms === 0) return;
    record.waits = [...record.waits, ...after];
    record.waitMs += ms;
    record.ms += ms;
    this.totalsOf(madeBy).busy.add(end, end + ms);
  }

  /**
   * Called with the running cell's records about to be folded: their waits are split by the GPU's
   * times so far, as the cell's end splits those it keeps (folded unsplit, 10,500 reads one after
   * another showed 8018 ms of GPU work against the GPU's own 4092 ms).
   */
  beforeFold: (records: TransferRecord[]) => void = () => undefined;

  private foldOldest(count: number): void {
    const oldest = this.records.splice(0, count);
    const starts = this.starts.splice(0, count);
    this.beforeFold(oldest.filter((record, i) => i >= this.cellStart && !this.strays.has(record)));
    for (let i = 0; i < oldest.length; i++) {
      const record = oldest[i]!;
      this.foldedRecords.add(record);
      this.folded.add(record, starts[i]!);
      if (i >= this.cellStart && !this.strays.has(record)) this.cellFolded.add(record, starts[i]!);
    }
    this.cellStart = Math.max(0, this.cellStart - count);
  }

  /**
   * Moves the code of cell `madeBy` made so far: their count, bytes, how many were not timed, and
   * the time the timed ones took with overlaps counted once.
   */
  totals(madeBy = this.cellNumber): { count: number; bytes: number; untimed: number; ms: number } {
    const { count, bytes, untimed, busy } = this.totalsOf(madeBy);
    return { count, bytes, untimed, ms: busy.total };
  }

  private totalsOf(cell: number): { count: number; bytes: number; untimed: number; busy: RunningUnion } {
    let totals = this.totalsByCell.get(cell);
    if (totals === undefined) {
      totals = { count: 0, bytes: 0, untimed: 0, busy: new RunningUnion() };
      this.totalsByCell.set(cell, totals);
    }
    return totals;
  }

  /** `startedAt`: the cell's start on performance.now()'s clock, which records' `at` counts from. */
  beginCell(startedAt = 0, cellNumber = 0): void {
    this.cellNumber = cellNumber;
    this.cellStartedAt = startedAt;
    this.cellStart = this.records.length;
    this.cellFolded = new FoldedSet();
  }

  /** A cell that ran ops or moved tensors becomes "the last cell", even if it moved nothing. */
  endCell(ranOps: boolean): { moves: TransferRecord[]; folded: FoldedMoves[]; foldedTime: FoldedTimeOf[] } {
    const own = this.records.slice(this.cellStart).map((record, index) => ({ record, start: this.starts[this.cellStart + index]! }))
      .filter(({ record }) => !this.strays.has(record));
    const moves = own.map(({ record }) => record);
    const folded = this.cellFolded.moves();
    const foldedTime = this.cellFolded.times(this.cellStartedAt);
    if (ranOps || moves.length > 0 || folded.length > 0) {
      this.lastCellNumber = this.cellNumber;
      this.last = moves;
      this.lastStarts = own.map(({ start }) => start);
      this.lastFolded = this.cellFolded;
    }
    return { moves, folded, foldedTime };
  }

  lastCell(): { moves: TransferRecord[]; folded: FoldedMoves[] } {
    return { moves: [...this.last], folded: this.lastFolded.moves() };
  }

  all(): { moves: TransferRecord[]; folded: FoldedMoves[]; foldedCount: number } {
    return { moves: [...this.records], folded: this.folded.moves(), foldedCount: this.folded.count };
  }

  /** What %transfers shows: the last cell's moves or the session's, in rows, with their wall-clock time. */
  listing(scope: 'last' | 'all'): TransferListing {
    return scope === 'all' ? listingOf([...this.records], this.starts, this.folded) : listingOf([...this.last], this.lastStarts, this.lastFolded);
  }

  reset(): void {
    this.lastCellNumber = 0;
    this.records = [];
    this.starts = [];
    this.last = [];
    this.lastStarts = [];
    this.lastFolded = new FoldedSet();
    this.folded = new FoldedSet();
    this.cellFolded = new FoldedSet();
    this.cellStart = 0;
  }
}
