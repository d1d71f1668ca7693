// What a cell did with devices: the data every rendering of the report (text, HTML, SVG, the
// ledger in metadata) is made from. Plain JSON, so it travels in metadata.tsgpu as it is.
import type { FoldedMoves, TransferRecord } from '../../device/device-control';
import type { ProfileRow } from '../../device/profile/op-profiler';
import { unionMs } from '../../device/timing/intervals';
/** A move as the report shows it: the ledger's record, within its cell. */
export type ReportTransfer = Omit<TransferRecord, 'cell'>;

/** A GPU's own account of a cell: when it was busy, from its clock. */
export interface GpuUse {
  /** Busy time during the cell (overlaps once), ms. */
  ms: number;
  /** `timestamps`: the GPU's timestamp queries; `fenced`: submit to onSubmittedWorkDone, idle gaps included. */
  source: 'timestamps' | 'fenced';
  /** Of ms, work earlier cells queued that ran during this one. */
  earlierCellsMs: number;
  earlierCells: number[];
  /** Work was still queued when the cell ended: it shows with a later cell. */
  stillBusy: boolean;
  /** Passes that tf.time / tf.profile timed with timestamps of their own: their GPU time is not in ms. */
  untimedPasses?: number;
  /** Busy stretches in ms since the cell started. */
  spans: [number, number][];
}

export interface DeviceUse {
  device: string;
  software: boolean;
  ops: number;
  /** Host time spent in this device's ops (sampled on the host; GPU work itself runs on after dispatch). */
  opMs: number;
  /** Busy spans in ms since the cell started. */
  spans: [number, number][];
  liveBytes: number;
  liveBytesBefore: number;
  /** Ops by kernel name, when %placement is on. */
  kernels: [string, number][] | null;
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
  foldedTransfers: Omit<FoldedMoves, 'cell'>[];
  /** %profile: ops by device, most GPU time first; null when not profiling. */
  profile: ProfileRow[] | null;
}

export interface TransferSummary {
  direction: ReportTransfer['direction'];
  count: number;
  bytes: number;
  /** Time the cell spent in these moves: the union of their intervals (overlapping moves count once). */
  ms: number;
  /** The moves' waits (overlapping waits count once, as ms does), and their copies summed. */
  waitMs: number;
  copyMs: number;
  /** What the waits were for: GPU work per device (and whether earlier cells queued it), staging set-up. */
  waits: { cause: 'gpu-work' | 'staging-setup'; device: string; ms: number; earlierCells: number[] }[];
  /** Cell lines that caused them, most moves first. */
  lines: { line: number | null; count: number }[];
}

/** Below this many bytes per move a rate says nothing (latency dominates): the report gives µs per move instead. */
export const RATE_MIN_BYTES = 64 * 1024;

export function summarizeTransfers(transfers: ReportTransfer[], folded: CellReport['foldedTransfers'] = []): TransferSummary[] {
  type Interval = { start: number; end: number };
  type Entry = TransferSummary & { lineCounts: Map<number | null, number>; intervals: Interval[]; waitIntervals: Interval[]; foldedWaitMs: number };
  // Moves that run at once (Promise.all of reads) wait for the same GPU work: each wait is an
  // interval (its move's start, then its waits one after another), and the union is shown.
  const waitIntervals = new Map<TransferSummary['waits'][number], Interval[]>();
  const byDirection = new Map<string, Entry>();
  for (const transfer of transfers) {
    const entry: Entry = byDirection.get(transfer.direction)
      ?? { direction: transfer.direction, count: 0, bytes: 0, ms: 0, waitMs: 0, copyMs: 0, waits: [], lines: [], lineCounts: new Map(), intervals: [], waitIntervals: [], foldedWaitMs: 0 };
    entry.count++;
    entry.bytes += transfer.bytes;
    entry.copyMs += transfer.copyMs;
    entry.intervals.push({ start: transfer.at, end: transfer.at + transfer.ms });
    entry.waitIntervals.push({ start: transfer.at, end: transfer.at + transfer.waitMs });
    let waitAt = transfer.at;
    for (const wait of transfer.waits) {
      let same = entry.waits.find((known) => known.cause === wait.cause && known.device === wait.device);
      if (same) same.earlierCells = [...new Set([...same.earlierCells, ...wait.earlierCells])].sort((a, b) => a - b);
      else {
        same = { cause: wait.cause, device: wait.device, ms: 0, earlierCells: [...wait.earlierCells] };
        entry.waits.push(same);
        waitIntervals.set(same, []);
      }
      waitIntervals.get(same)!.push({ start: waitAt, end: waitAt + wait.ms });
      waitAt += wait.ms;
    }
    entry.lineCounts.set(transfer.line, (entry.lineCounts.get(transfer.line) ?? 0) + 1);
    byDirection.set(transfer.direction, entry);
  }
  // Folded moves have no intervals left: their time is added as if none overlapped.
  const foldedMs = new Map<string, number>();
  for (const group of folded) {
    const entry: Entry = byDirection.get(group.direction)
      ?? { direction: group.direction, count: 0, bytes: 0, ms: 0, waitMs: 0, copyMs: 0, waits: [], lines: [], lineCounts: new Map(), intervals: [], waitIntervals: [], foldedWaitMs: 0 };
    entry.count += group.count;
    entry.bytes += group.bytes;
    entry.foldedWaitMs += group.waitMs;
    entry.copyMs += group.copyMs;
    entry.lineCounts.set(group.line, (entry.lineCounts.get(group.line) ?? 0) + group.count);
    foldedMs.set(group.direction, (foldedMs.get(group.direction) ?? 0) + group.ms);
    byDirection.set(group.direction, entry);
  }
  return [...byDirection.values()].map(({ lineCounts, intervals, waitIntervals: waited, foldedWaitMs, ...summary }) => ({
    ...summary,
    ms: unionMs(intervals) + (foldedMs.get(summary.direction) ?? 0),
    waitMs: unionMs(waited) + foldedWaitMs,
    waits: summary.waits.map((wait) => ({ ...wait, ms: unionMs(waitIntervals.get(wait) ?? []) })),
    lines: [...lineCounts].map(([line, count]) => ({ line, count })).sort((a, b) => b.count - a.count),
  }));
}

/** GB/s over the copy alone, or null where it would mean nothing (no copy time, or moves too small). */
export function gigabytesPerSecond(bytes: number, copyMs: number, count = 1): number | null {
  return copyMs > 0 && bytes / count >= RATE_MIN_BYTES ? bytes / copyMs / 1e6 : null;
}
