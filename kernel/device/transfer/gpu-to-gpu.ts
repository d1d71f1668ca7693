// A tensor's move from one GPU to another. WebGPU has no copy between two devices (each has its own
// queue and memory, even when they are one adapter opened twice), so the bytes go through the host
// in two legs, each in chunks through that GPU's staging buffers: GPU → host (the wasm heap), then
// host → GPU. The move is recorded once, as `gpu:A → gpu:B`, with each leg's bytes and times.
import type { MoveLeg } from '../device-control';
import type { BufferInfo, DataId, EngineLike } from '../engine-internals';
import type { MoveTiming } from '../timing/gpu-timing';
import type { WasmBackend, WebGpuBackend } from './gpu-types';
import { type ProgressCallback, SMALL_MOVE_BYTES, type TransferEngine } from './transfer-engine';

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
 * Moves `dataId` from GPU `from` to GPU `to` through the host and returns both legs. A tensor
 * whose values a read already brought to the host crosses only the second leg (the first carries
 * 0 bytes). If the second leg fails (the target is out of memory, the tensor was disposed
 * meanwhile), GpuToGpuLegFailed says where the tensor is and carries the first leg for the ledger.
 */
export async function moveBetweenGpus(parts: GpuToGpuParts, dataId: DataId, from: string, to: string, host: WasmBackend,
  target: WebGpuBackend, progress: ProgressCallback): Promise<[MoveLeg, MoveLeg]> {
  const { engine, transferEngine } = parts;
  const info = engine.state.tensorInfo.get(dataId);
  if (!info) throw new Error('the tensor was disposed');
  const total = parts.bytesOn(info, from) + parts.bytesOn(info, to);
  let firstLeg: MoveLeg;
  if (transferEngine.readsFromGpu(dataId)) {
    const bytes = parts.bytesOn(info, from);
    const timing = await parts.waitThenCopy(from, () => transferEngine.download(dataId, host, (done) => progress(done, total)));
    parts.moved(info, from, 'cpu');
    firstLeg = { from, to: 'cpu', bytes, ...timing };
  } else {
    // A host copy is there already: tfjs hands it over (engine.moveData counts it; nothing crosses).
    const started = performance.now();
    engine.moveData(host, dataId);
    firstLeg = { from, to: 'cpu', bytes: 0, waitMs: 0, copyMs: performance.now() - started, waits: [] };
  }
  const uploadBytes = parts.bytesOn(info, to);
  const upload = (): Promise<void> => transferEngine.upload(dataId, target, (done) => progress(firstLeg.bytes + done, total));
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
  parts.moved(info, 'cpu', to);
  return [firstLeg, { from: 'cpu', to, bytes: uploadBytes, ...timing }];
}
