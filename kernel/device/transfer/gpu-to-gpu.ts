// A tensor's move from one GPU to another. WebGPU has no copy between two devices (each has its own
// queue and memory, even when they are one adapter opened twice), so the bytes go through the host
// in two legs, each in chunks through that GPU's staging buffers: GPU → host (the wasm heap), then
// host → GPU. The move is recorded once, as `gpu:A → gpu:B`, with each leg's bytes and times.
import type { MoveLeg } from '../device-control';
import type { BufferInfo, DataId, EngineLike } from '../engine-internals';
import type { MoveTiming } from '../timing/gpu-timing';
import type { WasmBackend, WebGpuBackend } from './gpu-types';
import { MoveAborted, type ProgressCallback, SMALL_MOVE_BYTES, type TransferEngine } from './transfer-engine';

/** What a move between GPUs needs from the rest of the device layer. */
export interface GpuToGpuParts {
  engine: EngineLike;
  transferEngine: TransferEngine;
  /** Bytes the buffer takes on a device (a bool is 4 bytes on a GPU, 1 on the host). */
  bytesOn(info: BufferInfo, device: string): number;
  /** Runs a copy on a GPU, timing apart its wait for the GPU's queued work and the copy itself. */
  waitThenCopy(device: string, copy: () => Promise<void>): Promise<MoveTiming>;
  /** Counts a leg in each device's live memory (the tensor really is on the host between the legs). */
  moved(info: BufferInfo, from: string, to: string): void;
}

export class GpuToGpuLegFailed extends Error {
  constructor(message: string, readonly firstLeg: MoveLeg) {
    super(message);
    this.name = 'DeviceError';
  }
}

/**
 * The move was stopped (its cell interrupted) at a chunk boundary. The tensor is where `at` says,
 * whole: on its source GPU if the first leg had not finished, else on the host (the source GPU's
 * copy was let go when the first leg landed; the target's partial copy is freed). `crossed` holds
 * what did cross, leg by leg, the stopped leg with the bytes that landed before the stop.
 */
export class GpuToGpuStopped extends Error {
  constructor(readonly at: string, readonly crossed: MoveLeg[]) {
    super(`the move was stopped; the tensor is on ${at}`);
    this.name = 'GpuToGpuStopped';
  }
}

/** Runs one leg's chunked copy; a stop between chunks ends it early, and the bytes that had landed are what it carried. */
async function stoppableLeg(run: (progress: ProgressCallback) => Promise<void>, onChunk: (done: number) => void): Promise<{ done: number; stopped: boolean }> {
  let done = 0;
  try {
    await run((landed) => {
      done = landed;
      onChunk(landed);
    });
    return { done, stopped: false };
  } catch (error) {
    if (error instanceof MoveAborted) return { done, stopped: true };
    throw error;
  }
}

/**
 * Moves `dataId` from GPU `from` to GPU `to` through the host and returns both legs. A tensor
 * whose values a read already brought to the host crosses only the second leg (the first carries
 * 0 bytes). If the second leg fails (the target is out of memory, the tensor was disposed
 * meanwhile), GpuToGpuLegFailed says where the tensor is and carries the first leg for the ledger.
 */
export async function moveBetweenGpus(parts: GpuToGpuParts, dataId: DataId, from: string, to: string, host: WasmBackend,
  target: WebGpuBackend, progress: ProgressCallback, signal: AbortSignal): Promise<[MoveLeg, MoveLeg]> {
  const { engine, transferEngine } = parts;
  const info = engine.state.tensorInfo.get(dataId);
  if (!info) throw new Error('the tensor was disposed');
  if (signal.aborted) throw new GpuToGpuStopped(from, []);
  // The bar counts the tensor's bytes once: each leg that carries them fills half of it (a first
  // leg served from a host copy carries none, and the second fills all of it).
  const total = parts.bytesOn(info, to);
  const firstBytes = transferEngine.readsFromGpu(dataId) ? parts.bytesOn(info, from) : 0;
  const legShare = (done: number, legBytes: number): number => (legBytes > 0 ? (done / legBytes) * total : 0) / (firstBytes > 0 ? 2 : 1);
  let firstLeg: MoveLeg;
  if (firstBytes > 0) {
    let leg = { done: 0, stopped: false };
    const timing = await parts.waitThenCopy(from, async () => {
      leg = await stoppableLeg((chunk) => transferEngine.download(dataId, host, chunk, signal), (done) => progress(legShare(done, firstBytes), total));
    });
    if (leg.stopped) throw new GpuToGpuStopped(from, leg.done > 0 ? [{ from, to: 'cpu', bytes: leg.done, ...timing }] : []);
    parts.moved(info, from, 'cpu');
    firstLeg = { from, to: 'cpu', bytes: firstBytes, ...timing };
  } else {
    // A host copy is there already: tfjs hands it over (engine.moveData counts it; nothing crosses).
    // Copying it into cpu's memory is the thread's work, not the bus's: shown as copy, it took a
    // 4 MiB move's GB/s from 0.18-0.26 to 0.107-0.148.
    const started = performance.now();
    engine.moveData(host, dataId);
    const handOverMs = performance.now() - started;
    firstLeg = { from, to: 'cpu', bytes: 0, waitMs: handOverMs, copyMs: 0, waits: [{ cause: 'host-busy', ms: handOverMs, device: from, earlierCells: [] }] };
  }
  const uploadBytes = parts.bytesOn(info, to);
  const crossed = firstLeg.bytes > 0 ? [firstLeg] : [];
  // Stopped between the legs: the tensor is whole on the host, where the first leg left it.
  if (signal.aborted) throw new GpuToGpuStopped('cpu', crossed);
  let second = { done: 0, stopped: false };
  const upload = async (): Promise<void> => {
    second = await stoppableLeg((chunk) => transferEngine.upload(dataId, target, chunk, signal),
      (done) => progress(legShare(firstLeg.bytes, firstBytes) + legShare(done, uploadBytes), total));
  };
  let timing: MoveTiming;
  try {
    if (uploadBytes <= SMALL_MOVE_BYTES) {
      // One queue.writeBuffer: nothing to wait for (as for a small upload from the host).
      const started = performance.now();
      await upload();
      timing = { waitMs: 0, copyMs: performance.now() - started, waits: [] };
    } else {
      timing = await parts.waitThenCopy(to, upload);
    }
  } catch (error) {
    const why = (error as Error).message;
    if (!engine.state.tensorInfo.has(dataId)) throw new GpuToGpuLegFailed(`the move from ${from} to ${to} stopped: ${why}`, firstLeg);
    throw new GpuToGpuLegFailed(`the move from ${from} to ${to} stopped after its first leg: the tensor is on cpu now `
      + `(${why}). Move it again with await x.to('${to}'), or use it on the host.`, firstLeg);
  }
  if (second.stopped) {
    // The target's partial copy was freed; the host copy is the tensor, untouched.
    throw new GpuToGpuStopped('cpu', [...crossed, ...(second.done > 0 ? [{ from: 'cpu', to, bytes: second.done, ...timing }] : [])]);
  }
  parts.moved(info, 'cpu', to);
  return [firstLeg, { from: 'cpu', to, bytes: uploadBytes, ...timing }];
}
