// %profile / %%profile: a per-op table like torch.profiler's key_averages(): op, device, calls,
// host ms, GPU ms, bytes in and out. While it is on, each GPU op's dispatches get a compute pass of
// their own, so the GPU clock's pass timestamps say which op they timed; off, nothing of this runs.
import type { BackendLike, EngineLike, TensorLike } from '../engine-internals';
import { bytesOn, type OpProfileHooks } from '../placement';
import type { GpuClock, GpuInterval } from '../timing/gpu-clock';
import { directKernelRuns } from '../train/fast-path';

/** How an op is named where one of the kernel's own programs ran instead of tfjs's (model.trainStep's direct kernels). */
export const DIRECT_SUFFIX = ' (tsgpu direct)';

export interface ProfileRow {
  op: string;
  /** Where it ran: the device, or `gpu:0 (on the host)` for an op a GPU's tfjs backend ran on the CPU. */
  device: string;
  calls: number;
  /** Host time inside the op's call, nested ops included. */
  hostMs: number;
  /** GPU time of its dispatches from the GPU's timestamps; null on the host (or without timestamps). */
  gpuMs: number | null;
  bytesIn: number;
  bytesOut: number;
}

interface Open {
  kernelName: string;
  device: string;
  /** Bytes of the inputs as the device holds them, and as host arrays hold them (a bool: 4 bytes, 1 byte). */
  bytesIn: number;
  hostBytesIn: number;
  /** The pass label its dispatches are timed under: this call's own, as the row it lands in is known only at its end. */
  label: string;
  /** How many direct kernels had answered before it began. */
  directBefore: number;
  started: number;
  clock: GpuClock | undefined;
  previousLabel: string | null;
  backend: BackendLike;
}

interface PassControl {
  endComputePassEncoder?(): void;
}

export class OpProfiler implements OpProfileHooks {
  private rows = new Map<string, ProfileRow>();
  /** Each timed call's pass label, and the row its GPU time goes to. */
  private labelled = new Map<string, ProfileRow>();
  private calls = 0;
  private readonly open: Open[] = [];

  constructor(private readonly engine: EngineLike, private readonly clocks: ReadonlyMap<string, GpuClock>) {}

  begin(kernelName: string, device: string, backend: BackendLike, inputs: Record<string, TensorLike | undefined> | TensorLike[]): void {
    const label = `${kernelName}\u0000${device}\u0000${++this.calls}`;
    const clock = this.clocks.get(device);
    let bytesIn = 0;
    let hostBytesIn = 0;
    for (const name in inputs) {
      const tensor = (inputs as Record<string, TensorLike | undefined>)[name];
      const info = tensor?.dataId === undefined ? undefined : this.engine.state.tensorInfo.get(tensor.dataId);
      if (!info) continue;
      bytesIn += bytesOn(info, device);
      hostBytesIn += info.bytes;
    }
    // The op's dispatches go into a pass of their own: end the pass tfjs has open.
    if (clock) (backend as PassControl).endComputePassEncoder?.();
    this.open.push({ kernelName, device, bytesIn, hostBytesIn, label, directBefore: directKernelRuns(), started: performance.now(), clock, previousLabel: clock?.label ?? null, backend });
    if (clock) clock.label = label;
  }

  /** `onHost`: the GPU's backend ran it on the CPU, a row of its own with no GPU time. */
  end(result: unknown, onHost: boolean): void {
    const open = this.open.pop();
    if (!open) return;
    const ended = performance.now();
    const device = onHost ? `${open.device} (on the host)` : open.device;
    // The kernel's own program answered for tfjs's (no op nests in one): a row of its own.
    const op = directKernelRuns() > open.directBefore ? `${open.kernelName}${DIRECT_SUFFIX}` : open.kernelName;
    const key = `${op}\u0000${device}`;
    const row = this.rows.get(key)
      ?? { op, device, calls: 0, hostMs: 0, gpuMs: !onHost && open.clock?.source === 'timestamps' ? 0 : null, bytesIn: 0, bytesOut: 0 };
    this.rows.set(key, row);
    if (!onHost && open.clock) this.labelled.set(open.label, row);
    row.calls++;
    row.bytesIn += onHost ? open.hostBytesIn : open.bytesIn;
    row.hostMs += ended - open.started;
    for (const output of Array.isArray(result) ? result : [result]) {
      const dataId = (output as TensorLike | null | undefined)?.dataId;
      const info = dataId === undefined ? undefined : this.engine.state.tensorInfo.get(dataId);
      if (info) row.bytesOut += onHost ? info.bytes : bytesOn(info, open.device);
    }
    if (open.clock) {
      (open.backend as PassControl).endComputePassEncoder?.();
      open.clock.label = open.previousLabel;
    }
  }

  /** Adds the GPU time of passes labelled with an op; other intervals are left alone. */
  addGpuTimes(intervals: readonly GpuInterval[]): void {
    for (const interval of intervals) {
      if (interval.label === null) continue;
      const row = this.labelled.get(interval.label);
      if (row) row.gpuMs = (row.gpuMs ?? 0) + (interval.end - interval.start);
    }
  }

  get empty(): boolean {
    return this.rows.size === 0;
  }

  /** The table so far, most GPU time first (then host time), and a fresh start. */
  take(): ProfileRow[] {
    const rows = [...this.rows.values()];
    this.rows = new Map();
    this.labelled = new Map();
    return rows.sort((a, b) => (b.gpuMs ?? -1) - (a.gpuMs ?? -1) || b.hostMs - a.hostMs);
  }
}
