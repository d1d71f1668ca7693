// A cell's CellReport, assembled from what the device layer saw: each device's activity, the
// ledger's moves, the GPUs' clocks and live memory. The display layer renders it; nothing here
// knows how it looks.
import type { CellReport, DeviceUse } from '../display/report/cell-report';
import type { FoldedMoves, FoldedTimeOf, TransferRecord } from './device-control';
import { type DeviceActivity, Placement } from './placement';
import type { ProfileRow } from './profile/op-profiler';
import { gpuUse } from './timing/gpu-use';
import type { CellGpuTimes } from './timing/gpu-timing';

export interface CellObservations {
  cell: number;
  /** performance.now() when the cell started: the report's times count from here. */
  startedAt: number;
  activity: Record<string, DeviceActivity>;
  moves: TransferRecord[];
  folded: FoldedMoves[];
  /** The folded moves' time per direction, overlaps once: the report line adds it to the kept moves' union. */
  foldedTime: FoldedTimeOf[];
  gpuTimes: CellGpuTimes;
  profile: ProfileRow[] | null;
  /** Every device known, and which are software GPUs. */
  known: { name: string; software: boolean }[];
  liveBytes: (device: string) => number;
  liveBytesBefore: Map<string, number>;
  /** A GPU's live tensors whose values are in host arrays only (not in liveBytes). */
  heldOnHostBytes: (device: string) => number;
}

export function assembleCellReport(seen: CellObservations): CellReport {
  const start = seen.startedAt;
  // The report's window ends now: its duration, and the end of the GPU time it counts.
  const end = performance.now();
  const software = new Set(seen.known.filter((device) => device.software).map((device) => device.name));
  const names = new Set([...seen.known.map((device) => device.name), ...Object.keys(seen.activity)]);
  const devices = [...names].map((device): DeviceUse => {
    const done = seen.activity[device];
    const spans: [number, number][] = [];
    for (let i = 0; done && i < done.spans.length; i += 2) spans.push([done.spans[i]! - start, done.spans[i + 1]! - start]);
    return {
      device,
      software: software.has(device),
      ops: done?.ops ?? 0,
      hostOps: done?.hostOps ?? 0,
      opMs: done ? Placement.opMs(done) : 0,
      spans,
      liveBytes: seen.liveBytes(device),
      liveBytesBefore: seen.liveBytesBefore.get(device) ?? 0,
      heldOnHostBytes: seen.heldOnHostBytes(device),
      kernels: done?.kernels ? [...done.kernels].sort((a, b) => b[1] - a[1]) : null,
      hostKernels: done?.hostKernels ? [...done.hostKernels].sort((a, b) => b[1] - a[1]) : null,
      gpu: gpuUse(seen.gpuTimes.get(device), { start, end }, seen.cell),
    };
  }).filter((use) => use.ops > 0 || (use.gpu !== null && (use.gpu.ms > 0 || use.gpu.ranBeforeMs > 0)) || use.liveBytes > 0 || use.liveBytesBefore > 0 || use.heldOnHostBytes > 0
    || seen.moves.some((m) => m.from === use.device || m.to === use.device));
  return {
    cell: seen.cell,
    durationMs: end - start,
    devices,
    // A line of another cell keeps its cell number, so that it is never shown as this cell's.
    transfers: seen.moves.map(({ cell, ...move }) => (cell === null || cell === seen.cell ? move : { ...move, cell })),
    foldedTransfers: seen.folded.map(({ cell, ...group }) => (cell === null || cell === seen.cell ? group : { ...group, cell })),
    foldedTime: seen.foldedTime,
    profile: seen.profile,
  };
}

/** %placement on: the cell's ops by device, summarised (a loop's 10 000 ops are one line). */
export function placementText(report: CellReport): string | null {
  const times = (kernel: string, count: number): string => `  ${kernel}${count > 1 ? ` ×${count}` : ''}`;
  // A GPU's op its tfjs backend computed on the CPU ran on the host, as the report line and %profile say.
  const lines = report.devices.flatMap((use) => [
    ...(use.kernels ?? []).map(([kernel, count]) => `${times(kernel, count)} on ${use.device}`),
    ...(use.hostKernels ?? []).map(([kernel, count]) => `${times(kernel, count)} on the host (run there by tfjs for ${use.device})`),
  ]);
  return lines.length > 0 ? `placement (cell ${report.cell}):\n${lines.join('\n')}\n` : null;
}
