// What a cell did with devices: the data every rendering of the report (text, HTML, SVG, the
// ledger in metadata) is made from. Plain JSON, so it travels in metadata.tsgpu as it is.
import type { TransferRecord } from '../../device/device-control';
/** A move as the report shows it: the ledger's record, within its cell. */
export type ReportTransfer = Omit<TransferRecord, 'cell'>;

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
}

export interface CellReport {
  cell: number;
  durationMs: number;
  devices: DeviceUse[];
  transfers: ReportTransfer[];
}

export interface TransferSummary {
  direction: ReportTransfer['direction'];
  count: number;
  bytes: number;
  ms: number;
  /** Cell lines that caused them, most moves first. */
  lines: { line: number | null; count: number }[];
}

export function summarizeTransfers(transfers: ReportTransfer[]): TransferSummary[] {
  const byDirection = new Map<string, TransferSummary & { lineCounts: Map<number | null, number> }>();
  for (const transfer of transfers) {
    const entry = byDirection.get(transfer.direction)
      ?? { direction: transfer.direction, count: 0, bytes: 0, ms: 0, lines: [], lineCounts: new Map<number | null, number>() };
    entry.count++;
    entry.bytes += transfer.bytes;
    entry.ms += transfer.ms;
    entry.lineCounts.set(transfer.line, (entry.lineCounts.get(transfer.line) ?? 0) + 1);
    byDirection.set(transfer.direction, entry);
  }
  return [...byDirection.values()].map(({ lineCounts, ...summary }) => ({
    ...summary,
    lines: [...lineCounts].map(([line, count]) => ({ line, count })).sort((a, b) => b.count - a.count),
  }));
}

export function gigabytesPerSecond(bytes: number, ms: number): number | null {
  return ms > 0 ? bytes / ms / 1e6 : null;
}
