// Every host↔GPU move of a tensor big enough to matter: split into chunks through a bounded pool of
// reused staging buffers, pipelined (one chunk crosses the bus while the next is copied), read back
// straight into the destination (the wasm heap, or the array data() returns) rather than into a
// fresh copy first. tfjs's own path maps a new buffer per move and copies twice on the way back.
//
// A moving tensor stays where it was until its last chunk has landed; then its buffer changes
// backend in one synchronous step, as engine.moveData would have done. If it is disposed or moved
// meanwhile, the move stops, frees what it made, and says so.
import type { BackendLike, BufferInfo, DataId, EngineLike } from '../engine-internals';
import { checkedBuffer, type GpuIdentity, guardAllocations } from './gpu-allocation';
import { type GpuBuffer, type GpuBufferManager, isWebGpuBackend, MapMode, TENSOR_BUFFER_USAGE, type WasmBackend, type WebGpuBackend } from './gpu-types';
import {
  copyGpuToHost, copyHostToGpu, GPU_BYTES_PER_ELEMENT, gpuLayoutOf, hostView, isMovableDtype, type MovableDtype,
  newHostArray,
} from './host-memory';
import { type Away, awayBeforeNow, noteTransferWork } from '../timing/host-away';
import { copiesInFlight, type GpuLanding, noteAwaitedSetup, noteBufferWait, noteCopySeen, noteHeldSince, noteMoveDone, noteQueueDone, stampedClear, stampedCopy } from './move-notes';
import { stagingLimits, type StagingLimits, StagingPool } from './staging-pool';

/**
 * Up to this size an upload is one queue.writeBuffer straight from host memory: cheaper than
 * mapping a staging buffer (and than tfjs's path, which maps a new one per move).
 */
export const SMALL_MOVE_BYTES = 64 * 1024;

/** Called after each chunk lands. */
export type ProgressCallback = (doneBytes: number, totalBytes: number) => void;

export class MoveInterrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MoveInterrupted';
  }
}

/** Thrown at a chunk boundary when the move's caller aborted it (its cell was interrupted). */
export class MoveAborted extends MoveInterrupted {
  constructor() {
    super('the move was stopped between two chunks');
    this.name = 'MoveAborted';
  }
}

/** Stops a chunked move at its next chunk boundary once `signal` is aborted (the tensor stays where it was). */
function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MoveAborted();
}

/** Backends that hand tensors over the way tfjs's engine.moveData does. */
interface HandOver extends BackendLike {
  refCount(dataId: DataId): number;
  disposeData(dataId: DataId, force?: boolean): boolean;
  move(dataId: DataId, values: unknown, shape: number[], dtype: string, refCount: number): void;
}

function elementsOf(shape: number[]): number {
  return shape.reduce((product, dimension) => product * dimension, 1);
}

interface PendingRead {
  staging: GpuBuffer;
  first: number;
  count: number;
  mapped: Promise<void>;
  /** When its copy was submitted, and when it landed on the GPU's clock (null when not timed). */
  submitted: number;
  landed: GpuLanding | null;
  /**
   * When a poll saw its map end, and where the thread was before that, taken in that poll's jobs: a
   * map that ended while the read copied an earlier chunk is awaited only later, after code of the
   * cell's that the same poll resolved (a 450 ms loop behind its own fence), counted as the copy.
   */
  seen: { at: number; away: Away } | null;
}

export class TransferEngine {
  private readonly pools = new Map<WebGpuBackend, StagingPool>();
  /** Per attached GPU: its name and its allocator without the size guard (checkedBuffer asks Dawn instead). */
  private readonly attached = new WeakMap<WebGpuBackend, { identity: GpuIdentity; acquire: GpuBufferManager['acquireBuffer'] }>();

  constructor(private readonly engine: EngineLike, private readonly limits: StagingLimits = stagingLimits()) {}

  /** Moves this engine makes: tensors of numbers (float32, int32, bool), empty ones left to tfjs. */
  handles(info: BufferInfo | undefined): info is BufferInfo {
    return info !== undefined && isMovableDtype(info.dtype) && info.bytes > 0;
  }

  /** Staging memory held for a GPU now. */
  stagingBytes(gpu: WebGpuBackend): number {
    return this.pools.get(gpu)?.bytes ?? 0;
  }

  /** Whether a read from this GPU has a readback staging buffer made and mapped already (nothing to set up first). */
  readbackReady(gpu: WebGpuBackend): boolean {
    return this.pools.get(gpu)?.readback.ready ?? false;
  }

  /** Time spent creating a GPU's staging buffers so far (a move's wait, not its copy). */
  stagingSetupMs(gpu: WebGpuBackend): number {
    return this.pools.get(gpu)?.setupMs ?? 0;
  }

  get stagingLimits(): StagingLimits {
    return this.limits;
  }

  private pool(gpu: WebGpuBackend): StagingPool {
    let pool = this.pools.get(gpu);
    if (!pool) {
      pool = new StagingPool(gpu.device, this.limits);
      this.pools.set(gpu, pool);
    }
    return pool;
  }

  /** data()/array() on this GPU read through the engine (small reads keep tfjs's path); its allocations are checked. */
  attach(gpu: WebGpuBackend, identity: GpuIdentity): void {
    if (this.attached.has(gpu)) return;
    this.attached.set(gpu, { identity, acquire: guardAllocations(gpu, identity) });
    const read = gpu.read.bind(gpu);
    gpu.read = (dataId: DataId) => this.readValues(gpu, dataId, read);
  }

  // --- host → GPU ---------------------------------------------------------------------------

  /** Synchronous (an op needs it now): staging buffers that are ready, queue.writeBuffer for the rest. */
  uploadNow(dataId: DataId, gpu: WebGpuBackend): { setupMs: number } {
    const { info, host, dtype, count } = this.hostTensor(dataId);
    const target = gpu.bufferManager.acquireBuffer(count * GPU_BYTES_PER_ELEMENT, TENSOR_BUFFER_USAGE);
    const pool = this.pool(gpu);
    const setupBefore = pool.setupMs;
    const chunk = pool.chunkBytes / GPU_BYTES_PER_ELEMENT;
    try {
      const source = hostView(host, dataId);
      if (count * GPU_BYTES_PER_ELEMENT <= SMALL_MOVE_BYTES) gpu.queue.writeBuffer(target, 0, gpuLayoutOf(dtype, source, 0, count));
      else for (let first = 0; first < count; first += chunk) {
        const n = Math.min(chunk, count - first);
        const staging = pool.upload.take();
        if (staging) this.writeThrough(gpu, pool, staging, target, dtype, source, first, n);
        else gpu.queue.writeBuffer(target, first * GPU_BYTES_PER_ELEMENT, gpuLayoutOf(dtype, source, first, n));
      }
    } catch (error) {
      gpu.bufferManager.releaseBuffer(target);
      throw error;
    }
    this.handOverToGpu(dataId, info, host, gpu, target);
    // Staging buffers the pool made for it (the first uploads'): set-up, not copy.
    return { setupMs: pool.setupMs - setupBefore };
  }

  /**
   * Asynchronous: waits for staging buffers rather than falling back, and for the last chunk to
   * land. An aborted `signal` stops it at the next chunk boundary, the tensor still on the host.
   */
  async upload(dataId: DataId, gpu: WebGpuBackend, progress?: ProgressCallback, signal?: AbortSignal): Promise<void> {
    const { info, host, dtype, count } = this.hostTensor(dataId);
    if (count * GPU_BYTES_PER_ELEMENT <= SMALL_MOVE_BYTES) {
      this.uploadNow(dataId, gpu);
      return;
    }
    const attached = this.attached.get(gpu);
    // Each await below ends when the thread polls: code of the cell's that ran meanwhile (a host
    // loop after `const p = x.to('gpu:0'); await tick;`) held the move up once the GPU had done
    // what this move gave it. Before its first copy that is at once; after, when its latest copy
    // landed (by the GPU's clock, null when not timed: then nothing is claimed).
    let latest: GpuLanding | null = null;
    let copied = false;
    const seen = (since: number): void => noteCopySeen(copied ? latest : { at: since }, since);
    const checking = performance.now();
    // Whether the target is a buffer Dawn makes now, not a pooled one: told by tfjs's count of bytes
    // made, read around the synchronous acquire alone (read across the await below, another move's
    // buffer made or freed meanwhile made a pooled target look new, or a new one pooled).
    let made = false;
    const acquire = (size: number, usage: number): GpuBuffer => {
      const before = gpu.bufferManager.numBytesAllocated;
      const buffer = attached ? attached.acquire(size, usage) : gpu.bufferManager.acquireBuffer(size, usage);
      made = gpu.bufferManager.numBytesAllocated > before;
      return buffer;
    };
    // When Dawn answered the check: this code comes back a few jobs later, maybe behind the cell's own.
    let checkedAt: number | null = null;
    // Known good before a byte is written, and long before the host copy is let go.
    const target = attached
      ? await checkedBuffer(gpu, attached.identity, acquire, count * GPU_BYTES_PER_ELEMENT, TENSOR_BUFFER_USAGE, () => {
        checkedAt = performance.now();
        seen(checking);
      })
      : acquire(count * GPU_BYTES_PER_ELEMENT, TENSOR_BUFFER_USAGE);
    noteHeldSince(checkedAt);
    const pool = this.pool(gpu);
    const chunk = pool.chunkBytes / GPU_BYTES_PER_ELEMENT;
    const stillHere = (): boolean => this.stillHeld(dataId, host, gpu);
    try {
      // One chunk covers the buffer whole: Dawn fills nothing first.
      if (made && count > chunk) await clearNewBuffer(gpu, target);
      stopIfAborted(signal);
      for (let first = 0; first < count; first += chunk) {
        const n = Math.min(chunk, count - first);
        const acquiring = performance.now();
        const ready = pool.upload.ready;
        // Before its first chunk the move holds no buffer: all out, they are other moves'. Later,
        // some may be its own chunks' still landing, and waiting for those is its copy.
        const othersHold = first === 0 && pool.upload.allOut;
        // When a buffer given back ended the wait: this code comes back later, maybe behind the cell's own.
        let givenAt: number | null = null;
        const staging = await pool.upload.acquire(() => {
          givenAt = performance.now();
          seen(acquiring);
        });
        if (othersHold) noteBufferWait(acquiring, givenAt ?? performance.now());
        if (!ready && givenAt === null) seen(acquiring);
        noteHeldSince(givenAt);
        if (!stillHere() || signal?.aborted) {
          pool.upload.giveBack(staging);
          stopIfAborted(signal);
          throw new MoveInterrupted('the tensor was disposed or moved elsewhere while it was being moved to the GPU');
        }
        // After an await the wasm heap may have grown (a new ArrayBuffer): look again.
        latest = this.writeThrough(gpu, pool, staging, target, dtype, hostView(host, dataId), first, n);
        copied = true;
        progress?.((first + n) * GPU_BYTES_PER_ELEMENT, count * GPU_BYTES_PER_ELEMENT);
      }
      const landing = performance.now();
      await gpu.queue.onSubmittedWorkDone();
      noteQueueDone(landing);
      seen(landing);
      stopIfAborted(signal);
      if (!stillHere()) throw new MoveInterrupted('the tensor was disposed or moved elsewhere while it was being moved to the GPU');
    } catch (error) {
      gpu.bufferManager.releaseBuffer(target);
      throw error;
    }
    this.handOverToGpu(dataId, info, host, gpu, target);
    noteMoveDone();
  }

  /** One chunk up: when its copy landed on the GPU's clock, where the move is timed there (else null). */
  private writeThrough(gpu: WebGpuBackend, pool: StagingPool, staging: GpuBuffer, target: GpuBuffer, dtype: MovableDtype,
    source: Uint8Array, first: number, count: number): GpuLanding | null {
    const bytes = count * GPU_BYTES_PER_ELEMENT;
    copyHostToGpu(dtype, source, first, count, staging.getMappedRange(0, bytes));
    staging.unmap();
    const encoder = gpu.device.createCommandEncoder();
    const landed = stampedCopy(encoder, () => encoder.copyBufferToBuffer(staging, 0, target, first * GPU_BYTES_PER_ELEMENT, bytes), bytes);
    gpu.queue.submit([encoder.finish()]);
    pool.recycleUpload(staging);
    return landed;
  }

  /**
   * Where a tensor's host values still are: on the host backend, or in the host array of the GPU
   * backend it was made on (before tfjs's upload at first use). False once it moved, was freed,
   * or (in the GPU's case) was uploaded by an op meanwhile.
   */
  private stillHeld(dataId: DataId, host: BackendLike, gpu: WebGpuBackend): boolean {
    if (this.engine.state.tensorInfo.get(dataId)?.backend !== host) return false;
    return host !== gpu || heldInHostArray(gpu, dataId);
  }

  private hostTensor(dataId: DataId): { info: BufferInfo; host: HandOver; dtype: MovableDtype; count: number } {
    const info = this.engine.state.tensorInfo.get(dataId);
    if (!info || !isMovableDtype(info.dtype)) throw new Error('the tensor was disposed');
    return { info, host: info.backend as HandOver, dtype: info.dtype, count: elementsOf(info.shape) };
  }

  /** What engine.moveData does once the data is there: the buffer now belongs to the GPU backend. */
  private handOverToGpu(dataId: DataId, info: BufferInfo, host: HandOver, gpu: WebGpuBackend, target: GpuBuffer): void {
    if (host === gpu) {
      // Values the GPU backend held in a host array: its entry takes the buffer, as tfjs's own upload does.
      const entry = gpu.tensorMap.get(dataId)!;
      entry.values = null;
      entry.resource = target;
      return;
    }
    const refCount = host.refCount(dataId);
    host.disposeData(dataId, true);
    info.backend = gpu;
    gpu.move(dataId, null, info.shape, info.dtype, refCount);
    gpu.tensorMap.get(dataId)!.resource = target;
  }

  // --- GPU → host ---------------------------------------------------------------------------

  /** True when a GPU tensor's values are read from the GPU (not from a host copy tfjs kept). */
  readsFromGpu(dataId: DataId): boolean {
    const info = this.engine.state.tensorInfo.get(dataId);
    if (!this.handles(info) || !isWebGpuBackend(info.backend)) return false;
    const data = info.backend.tensorMap.get(dataId);
    return data !== undefined && data.values == null && data.resource != null && data.complexTensorInfos == null;
  }

  /**
   * Moves a GPU tensor into the wasm heap, its chunks written there straight from the staging
   * buffers. An aborted `signal` stops it at the next chunk boundary, the tensor still on the GPU.
   */
  async download(dataId: DataId, host: WasmBackend, progress?: ProgressCallback, signal?: AbortSignal): Promise<void> {
    const info = this.engine.state.tensorInfo.get(dataId);
    if (!info || !this.readsFromGpu(dataId)) throw new Error('the tensor is not on a GPU');
    const gpu = info.backend as WebGpuBackend;
    const source = gpu.tensorMap.get(dataId)!.resource as GpuBuffer;
    const dtype = info.dtype as MovableDtype;
    const count = elementsOf(info.shape);
    // Allocated in the heap first, under the same dataId; the engine still points at the GPU.
    host.move(dataId, null, info.shape, info.dtype, 1);
    try {
      await this.readChunks(gpu, source, dtype, count, () => hostView(host, dataId), () => this.stillOn(dataId, gpu, source), progress, signal);
    } catch (error) {
      host.disposeData(dataId, true);
      throw error;
    }
    const refCount = gpu.refCount(dataId);
    gpu.disposeData(dataId, true);
    info.backend = host;
    host.dataIdMap.get(dataId)!.refCount = refCount;
    noteMoveDone();
  }

  private stillOn(dataId: DataId, gpu: WebGpuBackend, source: GpuBuffer): boolean {
    return this.engine.state.tensorInfo.get(dataId)?.backend === gpu && gpu.tensorMap.get(dataId)?.resource === source;
  }

  private async readValues(gpu: WebGpuBackend, dataId: DataId, tfjsRead: (dataId: DataId) => Promise<unknown>): Promise<unknown> {
    const info = this.engine.state.tensorInfo.get(dataId);
    if (info?.backend !== gpu || !this.readsFromGpu(dataId)) return tfjsRead(dataId);
    const data = gpu.tensorMap.get(dataId)!;
    const source = data.resource as GpuBuffer;
    const dtype = info.dtype as MovableDtype;
    const count = elementsOf(info.shape);
    const made = performance.now();
    const values = newHostArray(dtype, count);
    noteTransferWork(made, performance.now());
    const bytes = new Uint8Array(values.buffer);
    try {
      await this.readChunks(gpu, source, dtype, count, () => bytes, () => this.stillOn(dataId, gpu, source));
    } catch (error) {
      // Moved elsewhere meanwhile: read it where it is now.
      if (error instanceof MoveInterrupted && this.engine.state.tensorInfo.has(dataId)) return this.engine.read(dataId);
      throw error;
    }
    // tfjs keeps what it read as a host copy: later reads and moves to the host cost nothing.
    data.values = values;
    return values;
  }

  /**
   * Copies `count` elements of `source` into `target()` through readback staging buffers, with up
   * to all of them in flight. Only the first buffer of a read is waited for: a read waiting for a
   * second while holding one could deadlock with another read doing the same.
   */
  private async readChunks(gpu: WebGpuBackend, source: GpuBuffer, dtype: MovableDtype, count: number, target: () => Uint8Array,
    stillThere: () => boolean, progress?: ProgressCallback, signal?: AbortSignal): Promise<void> {
    const pool = this.pool(gpu);
    const chunk = pool.chunkBytes / GPU_BYTES_PER_ELEMENT;
    // Ops tfjs recorded but has not submitted may be what writes this tensor: submit them first.
    if (gpu.commandEncoder) {
      gpu.endComputePassEncoder();
      gpu.submitQueue();
    }
    const pending: PendingRead[] = [];
    let next = 0;
    try {
      while (next < count || pending.length > 0) {
        stopIfAborted(signal);
        while (next < count) {
          // With a buffer at hand the copy is submitted before this returns: right behind the work
          // queued so far, ahead of whatever the caller queues next (a read's wait counts on it).
          let staging = pool.readback.take();
          // With none of its own chunks pending, every buffer out is another move's.
          if (!staging && pending.length === 0) {
            const waiting = performance.now();
            // A buffer given back ends the wait among the jobs of the poll that saw its map end; this
            // code comes back a few jobs later, maybe behind the cell's own: that is not the wait's.
            let givenAt: number | null = null;
            staging = await pool.readback.acquire(() => {
              givenAt = performance.now();
            });
            noteBufferWait(waiting, givenAt ?? performance.now());
            noteHeldSince(givenAt);
          }
          if (!staging) break;
          if (pool.readback.unmapped(staging)) await pool.readback.firstUse(staging, MapMode.READ);
          if (!stillThere() || signal?.aborted) {
            pool.readback.giveBack(staging);
            stopIfAborted(signal);
            throw new MoveInterrupted('the tensor was disposed or moved elsewhere while it was being read from the GPU');
          }
          const n = Math.min(chunk, count - next);
          const encoder = gpu.device.createCommandEncoder();
          const copied = stampedCopy(encoder, () => encoder.copyBufferToBuffer(source, next * GPU_BYTES_PER_ELEMENT, staging, 0, n * GPU_BYTES_PER_ELEMENT),
            n * GPU_BYTES_PER_ELEMENT);
          const submitted = performance.now();
          gpu.queue.submit([encoder.finish()]);
          const read: PendingRead = { staging, first: next, count: n, mapped: staging.mapAsync(MapMode.READ, 0, n * GPU_BYTES_PER_ELEMENT), submitted, landed: copied, seen: null };
          read.mapped.then(() => {
            read.seen = { at: performance.now(), away: awayBeforeNow(submitted) };
          }, () => undefined);
          pending.push(read);
          next += n;
        }
        const head = pending[0]!;
        await head.mapped;
        noteQueueDone(head.submitted);
        noteCopySeen(head.landed, head.submitted, head.seen?.away);
        noteHeldSince(head.seen?.at ?? null);
        pending.shift();
        if (signal?.aborted) {
          // Landed after the stop: not copied into the tensor, and not counted as done.
          head.staging.unmap();
          pool.readback.giveBack(head.staging);
          stopIfAborted(signal);
        }
        const copying = performance.now();
        copyGpuToHost(dtype, head.staging.getMappedRange(0, head.count * GPU_BYTES_PER_ELEMENT), head.count, target(), head.first);
        head.staging.unmap();
        noteTransferWork(copying, performance.now());
        pool.readback.giveBack(head.staging);
        progress?.((head.first + head.count) * GPU_BYTES_PER_ELEMENT, count * GPU_BYTES_PER_ELEMENT);
      }
    } catch (error) {
      for (const left of pending) {
        left.mapped.then(() => {
          left.staging.unmap();
          pool.readback.giveBack(left.staging);
        }, () => pool.readback.drop(left.staging));
      }
      throw error;
    }
  }
}

/**
 * A tensor buffer Dawn has just made is zero-filled on its first write that does not cover it whole
 * (an upload's first chunk of several): that clear ran inside the first chunk's copy, and a 64 MiB
 * upload into a new buffer showed `copy 334 ms, 0.201 GB/s` where one into a pooled buffer showed
 * 10 ms and 6.6 GB/s (lavapipe, where the clear also faults the buffer's pages in). Cleared here,
 * before any chunk, and fenced: the time is the move's set-up for its new buffer, not its copy.
 * Other moves' work queued ahead (their chunks, their own clears: uploads started together) is
 * waited for first, as a wait for those moves, so that the clear's fence times the clear alone (a
 * second new 47 MiB upload started with another showed the first's clear as its own set-up).
 */
async function clearNewBuffer(gpu: WebGpuBackend, target: GpuBuffer): Promise<void> {
  if (copiesInFlight()) {
    const waiting = performance.now();
    await gpu.queue.onSubmittedWorkDone();
    noteQueueDone(waiting);
    noteBufferWait(waiting, performance.now());
  }
  const started = performance.now();
  const encoder = gpu.device.createCommandEncoder();
  stampedClear(encoder, () => encoder.clearBuffer(target), target.size);
  gpu.queue.submit([encoder.finish()]);
  await gpu.queue.onSubmittedWorkDone();
  noteQueueDone(started);
  noteAwaitedSetup(started);
}

/** A GPU backend's buffer whose values are in a host array only (made from host values, not uploaded yet). */
export function heldInHostArray(gpu: WebGpuBackend, dataId: DataId): boolean {
  const entry = gpu.tensorMap.get(dataId);
  return entry !== undefined && entry.values != null && entry.resource == null && entry.complexTensorInfos == null;
}
