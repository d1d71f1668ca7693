// What a cell did with devices: the data every rendering of the report (text, HTML, SVG, the
// ledger in metadata) is made from. Plain JSON, so it travels in metadata.tsgpu as it is.
import { movesTime, type TimedSpan, waitKey, waitPart } from '../../device/covered-time';
import type { FoldedMoves, FoldedTimeOf, MoveWait, TransferRecord } from '../../device/device-control';
import type { ProfileRow } from '../../device/profile/op-profiler';
/**
 * A move as the report shows it: the ledger's record, within its cell. `cell` is there only when
 * its line is in another cell (a tensor made in an earlier cell, uploaded in this one).
 */
export type ReportTransfer = Omit<TransferRecord, 'cell'> & { cell?: number };

/** A GPU's own account of a cell: when it was busy, from its clock. */
export interface GpuUse {
  /** Busy time during the cell (overlaps once), ms. */
  ms: number;
  /** `timestamps`: the GPU's timestamp queries; `fenced`: submit to onSubmittedWorkDone, idle gaps included. */
  source: 'timestamps' | 'fenced';
  /** Of ms, work earlier cells queued that ran during this one. */
  earlierCellsMs: number;
  earlierCells: number[];
  /**
   * Not in ms: busy time of earlier cells' work, first timed with this cell, that ran before this
   * cell began (between cells, or in the cell that queued it after its report's times were read).
   */
  ranBeforeMs: number;
  /** The cells that queued ranBeforeMs's work. */
  ranBeforeCells: number[];
  /** Work was still queued when the cell ended: it shows with a later cell. */
  stillBusy: boolean;
  /**
   * With stillBusy, when none of the work still queued was this cell's: the cells that queued it.
   * The cell's own GPU time is then known (0 where it queued none), not waiting to be measured.
   */
  busyWithOthers?: number[];
  /**
   * tfjs had recorded work it had not submitted when the cell ended, and the GPU finished the rest
   * within the report's settle time: submitted then, that work ran after the cell, and the GPU time
   * shows with a later cell (stillBusy false: the GPU was not given it during the cell).
   */
  heldBack?: true;
  /** Not in ms: busy time during the cell of work started with detach(), which no report counts. */
  detachedMs?: number;
  /** Passes that tf.time / tf.profile timed with timestamps of their own: their GPU time is not in ms. */
  untimedPasses?: number;
  /** Busy stretches in ms since the cell started. */
  spans: [number, number][];
}

export interface DeviceUse {
  device: string;
  software: boolean;
  /** A software GPU an earlier report of the session said was one (its hint is given once: the line says "(software)" each time). */
  softwareTold?: true;
  ops: number;
  /**
   * Of ops, those a GPU's tfjs backend ran on the host (tfjs-backend-webgpu computes an op on the CPU
   * when its inputs are small and still in host arrays: WEBGPU_CPU_FORWARD). 0 for the host.
   */
  hostOps: number;
  /** Host time spent in this device's ops, each timed whole as tfjs runs it (GPU work itself runs on after the op returns). */
  opMs: number;
  /** Busy spans in ms since the cell started. */
  spans: [number, number][];
  /** Live tensors in the device's own memory (GPU buffers for a GPU). */
  liveBytes: number;
  liveBytesBefore: number;
  /** A GPU's live tensors whose values its tfjs backend keeps in host arrays: host memory, not in liveBytes. */
  heldOnHostBytes: number;
  /** Ops by kernel name, when %placement is on. */
  kernels: [string, number][] | null;
  /** Of those, the ones in hostOps (a GPU's tfjs ran them on the host), by kernel name; not in kernels. */
  hostKernels: [string, number][] | null;
  /** GPUs only (null for the host, or a GPU not started). */
  gpu: GpuUse | null;
}

export interface CellReport {
  cell: number;
  durationMs: number;
  devices: DeviceUse[];
  /** The cell's moves one by one (the newest, when it made very many)… */
  transfers: ReportTransfer[];
  /** …and its older moves folded per line, when it made more than the ledger keeps one by one. */
  foldedTransfers: (Omit<FoldedMoves, 'cell'> & { cell?: number })[];
  /**
   * Those folded moves' time per direction, overlapping moves once (each group's ms above is its
   * moves' times summed): the line's time is this plus the union of the moves kept one by one.
   */
  foldedTime: FoldedTimeOf[];
  /** %profile: ops by device, most GPU time first; null when not profiling. */
  profile: ProfileRow[] | null;
}

export interface TransferSummary {
  direction: ReportTransfer['direction'];
  count: number;
  bytes: number;
  /** Time the cell spent in these moves: the union of their intervals (overlapping moves count once). */
  ms: number;
  /**
   * A split of ms: copyMs is the time at least one move was copying, waitMs the time some move
   * waited and none copied (copyMs + waitMs = ms).
   */
  waitMs: number;
  copyMs: number;
  /**
   * What the waits were for: GPU work per device (earlier cells' apart from later work), the GPU
   * queue's latency beyond it, staging set-up, the host seeing a finished wait late; each at most waitMs.
   */
  waits: { cause: MoveWait['cause']; device: string; ms: number; earlierCells: number[] }[];
  /** Moves whose time was not measured (host values tfjs uploaded inside the first op that used them), and their bytes. */
  untimedCount: number;
  untimedBytes: number;
  /**
   * Of those, the ones a library call made from host values inside it (fit's batch indices and
   * constants), by call, most first: its own, none of them the user's to move.
   */
  untimedByCall: { call: string; count: number }[];
  /** Cell lines that caused them, most moves first; `cell` only for a line of another cell. */
  lines: { line: number | null; cell?: number; count: number }[];
}

/** Below this many bytes per move a rate says nothing (latency dominates): the report gives µs per move instead. */
export const RATE_MIN_BYTES = 64 * 1024;

/** A software GPU the cell used (ran ops on, or moved tensors to or from): the one its hint is about. */
export function usedSoftwareGpus(report: CellReport): DeviceUse[] {
  const moved = new Set(report.transfers.flatMap((transfer) => [transfer.from, transfer.to]));
  return report.devices.filter((use) => use.software && (use.ops > 0 || moved.has(use.device)));
}

type Wait = TransferSummary['waits'][number];

const summariesOf = new WeakMap<CellReport, TransferSummary[]>();

/** The report's summaries, worked out once for its line and its table (6,000 moves took 180 ms each time). */
export function reportSummaries(report: CellReport): TransferSummary[] {
  let summaries = summariesOf.get(report);
  if (summaries === undefined) {
    summaries = summarizeTransfers(report.transfers, report.foldedTransfers, report.foldedTime);
    summariesOf.set(report, summaries);
  }
  return summaries;
}

/**
 * One summary per direction. Its time is the union of its moves' intervals, overlapping moves once,
 * with the folded moves' union (`foldedTime`) before them: the same count as %transfers' total.
 */
export function summarizeTransfers(
  transfers: ReportTransfer[], folded: CellReport['foldedTransfers'] = [], foldedTime: readonly FoldedTimeOf[] = [],
): TransferSummary[] {
  type Entry = Omit<TransferSummary, 'waits'> & {
    lineCounts: Map<string, { line: number | null; cell?: number; count: number }>;
    /** Untimed moves a library call made, by call. */
    callCounts: Map<string, number>;
    spans: TimedSpan[];
    /** What each wait key was for, earlier cells gathered; in the order first seen. */
    waitsByKey: Map<string, Omit<Wait, 'ms'>>;
  };
  const byDirection = new Map<string, Entry>();
  const entryOf = (direction: ReportTransfer['direction']): Entry => {
    const entry: Entry = byDirection.get(direction) ?? {
      direction, count: 0, bytes: 0, ms: 0, waitMs: 0, copyMs: 0, untimedCount: 0, untimedBytes: 0, untimedByCall: [], lines: [],
      lineCounts: new Map(), spans: [], waitsByKey: new Map(), callCounts: new Map(),
    };
    byDirection.set(direction, entry);
    return entry;
  };
  const countLine = (entry: Entry, line: number | null, cell: number | undefined, count: number): void => {
    const key = `${cell ?? ''}|${line}`;
    const known = entry.lineCounts.get(key) ?? { line, ...(cell === undefined ? {} : { cell }), count: 0 };
    known.count += count;
    entry.lineCounts.set(key, known);
  };
  // Earlier cells' GPU work stays apart from later work: together they would all read as queued by those cells.
  const noteWait = (entry: Entry, wait: Omit<Wait, 'ms'>): void => {
    const key = waitKey(wait);
    const known = entry.waitsByKey.get(key);
    const earlierCells = [...new Set([...(known?.earlierCells ?? []), ...wait.earlierCells])].sort((a, b) => a - b);
    entry.waitsByKey.set(key, { cause: wait.cause, device: wait.device, earlierCells });
  };
  for (const transfer of transfers) {
    const entry = entryOf(transfer.direction);
    entry.count++;
    entry.bytes += transfer.bytes;
    countLine(entry, transfer.line, transfer.cell, 1);
    if (transfer.untimed) {
      entry.untimedCount++;
      entry.untimedBytes += transfer.bytes;
      if (transfer.callsOwn === true && transfer.via.call !== null) entry.callCounts.set(transfer.via.call, (entry.callCounts.get(transfer.via.call) ?? 0) + 1);
      continue;
    }
    // Moves that run at once (Promise.all of reads) overlap: each is a wait (its waits one after
    // another), a copy, and its waits after the copy; the summary splits the union of them into
    // copying and waiting.
    entry.spans.push({
      start: transfer.at, waitMs: transfer.waitMs, end: transfer.at + transfer.ms,
      waits: transfer.waits.map(waitPart),
    });
    for (const wait of transfer.waits) noteWait(entry, wait);
  }
  for (const group of folded) {
    const entry = entryOf(group.direction);
    entry.count += group.count;
    entry.bytes += group.bytes;
    if (group.untimed) {
      entry.untimedCount += group.count;
      entry.untimedBytes += group.bytes;
    }
    countLine(entry, group.line, group.cell, group.count);
  }
  const foldedOf = new Map(foldedTime.map((time) => [time.direction, time]));
  for (const time of foldedTime) for (const wait of time.waits) noteWait(entryOf(time.direction), wait);
  return [...byDirection.values()].map(({ lineCounts, spans, waitsByKey, callCounts, ...summary }) => {
    const before = foldedOf.get(summary.direction);
    const time = movesTime(spans, before && { ...before, waits: new Map(before.waits.map((wait) => [waitKey(wait), wait.ms])) });
    return {
      ...summary,
      untimedByCall: [...callCounts].map(([call, count]) => ({ call, count })).sort((a, b) => b.count - a.count),
      ms: time.ms,
      copyMs: time.copyMs,
      waitMs: time.waitMs,
      // A wait every moment of which some copy covered was no wait of the line's (it would read "0.0 µs").
      waits: [...waitsByKey].map(([key, wait]) => ({ ...wait, ms: time.waits.get(key) ?? 0 })).filter((wait) => wait.ms > 0),
      lines: [...lineCounts.values()].sort((a, b) => b.count - a.count),
    };
  });
}

/** GB/s over the copy alone, or null where it would mean nothing (no copy time, or moves too small). */
export function gigabytesPerSecond(bytes: number, copyMs: number, count = 1): number | null {
  return copyMs > 0 && bytes / count >= RATE_MIN_BYTES ? bytes / copyMs / 1e6 : null;
}
