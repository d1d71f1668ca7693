// Staging buffers between host memory and one GPU: few, of one size, reused move after move.
// Mapping a fresh buffer for every move costs more than the copy (and Dawn aborted the process
// for map-based buffers of 128 MB and more on an H200), so every move goes through these in chunks.
import { BufferUsage, type GpuBuffer, type GpuDevice, MapMode } from './gpu-types';
import { noteAwaitedSetup, noteBufferMade, noteSetup } from './move-notes';

export interface StagingLimits {
  /** Bytes per staging buffer: the chunk a move is split into. A multiple of 8 (WebGPU's map alignment). */
  chunkBytes: number;
  /** Staging buffers per direction: with two or more, one chunk crosses the bus while the next is copied. */
  buffersPerDirection: number;
}

const MiB = 2 ** 20;
export const DEFAULT_STAGING: StagingLimits = { chunkBytes: 8 * MiB, buffersPerDirection: 4 };

/** `TSGPU_STAGING=16x2` (MiB per buffer × buffers per direction) overrides the default, for tuning on a new GPU. */
export function stagingLimits(setting = process.env['TSGPU_STAGING']): StagingLimits {
  const match = /^\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(setting ?? '');
  if (!match) return DEFAULT_STAGING;
  const chunkMiB = Math.min(64, Math.max(1, Number(match[1])));
  const buffers = Math.min(16, Math.max(1, Number(match[2])));
  return { chunkBytes: chunkMiB * MiB, buffersPerDirection: buffers };
}

/**
 * Buffers of one kind. `take` never waits (a synchronous move uses it); `acquire` waits for one to
 * come back once `limit` exist. Upload buffers are handed out mapped, readback buffers unmapped.
 */
class StagingSet {
  private readonly idle: GpuBuffer[] = [];
  private readonly waiting: ((buffer: GpuBuffer) => void)[] = [];
  private created = 0;
  /** Time spent creating buffers: the first moves pay it, and it is reported as a wait, not a copy. */
  setupMs = 0;
  /** Buffers not mapped since they were made: lavapipe backs a buffer with memory on its first map (~20 ms for 8 MiB). */
  private readonly unused = new WeakSet<GpuBuffer>();

  constructor(
    private readonly device: GpuDevice,
    private readonly usage: number,
    private readonly mappedAtCreation: boolean,
    readonly chunkBytes: number,
    readonly limit: number,
  ) {}

  get bytes(): number {
    return this.created * this.chunkBytes;
  }

  take(): GpuBuffer | null {
    const ready = this.idle.pop();
    if (ready) return ready;
    if (this.created >= this.limit) return null;
    this.created++;
    const started = performance.now();
    const buffer = this.device.createBuffer({ size: this.chunkBytes, usage: this.usage, mappedAtCreation: this.mappedAtCreation });
    const ended = performance.now();
    this.setupMs += ended - started;
    noteSetup(started, ended);
    noteBufferMade(started, ended);
    if (!this.mappedAtCreation) this.unused.add(buffer);
    return buffer;
  }

  /** Whether take() would hand out a buffer made and mapped before (no set-up to wait for). */
  get ready(): boolean {
    return this.idle.length > 0;
  }

  /** Whether acquire() would wait for a buffer to be given back (every one the pool may make is out). */
  get allOut(): boolean {
    return this.idle.length === 0 && this.created >= this.limit;
  }

  /**
   * `onGiven` runs when a buffer given back ends a wait (not when one was free): in the job that
   * gave it back, among those of the poll that saw its map end, where the awaiting move's own code
   * comes back a few jobs later (see checkedBuffer's `onChecked`).
   */
  acquire(onGiven?: () => void): Promise<GpuBuffer> {
    const buffer = this.take();
    if (buffer) return Promise.resolve(buffer);
    return new Promise((resolve) => this.waiting.push((given) => {
      onGiven?.();
      resolve(given);
    }));
  }

  /** Whether a buffer has never been mapped (firstUse has set-up to do). */
  unmapped(buffer: GpuBuffer): boolean {
    return this.unused.has(buffer);
  }

  /** Maps a new readback buffer once before its first copy, so that set-up is counted as set-up, not as the copy. */
  async firstUse(buffer: GpuBuffer, mode: number): Promise<void> {
    if (!this.unused.has(buffer)) return;
    this.unused.delete(buffer);
    const started = performance.now();
    await buffer.mapAsync(mode);
    buffer.unmap();
    this.setupMs += noteAwaitedSetup(started);
  }

  giveBack(buffer: GpuBuffer): void {
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.idle.push(buffer);
  }

  /** A buffer that failed (its map was refused, the device was lost) is replaced, not reused. */
  drop(buffer: GpuBuffer): void {
    buffer.destroy();
    this.created--;
    const next = this.waiting.shift();
    if (next) {
      const fresh = this.take();
      if (fresh) next(fresh);
      else this.waiting.unshift(next);
    }
  }
}

export class StagingPool {
  readonly upload: StagingSet;
  readonly readback: StagingSet;

  constructor(device: GpuDevice, readonly limits: StagingLimits) {
    this.upload = new StagingSet(device, BufferUsage.MAP_WRITE | BufferUsage.COPY_SRC, true, limits.chunkBytes, limits.buffersPerDirection);
    this.readback = new StagingSet(device, BufferUsage.MAP_READ | BufferUsage.COPY_DST, false, limits.chunkBytes, limits.buffersPerDirection);
  }

  get chunkBytes(): number {
    return this.limits.chunkBytes;
  }

  /** GPU-visible host memory the staging buffers hold now (bounded by 2 × buffers × chunk). */
  get bytes(): number {
    return this.upload.bytes + this.readback.bytes;
  }

  /** Time spent creating staging buffers so far. */
  get setupMs(): number {
    return this.upload.setupMs + this.readback.setupMs;
  }

  /** After its copy is submitted, an upload buffer maps again in the background and rejoins the pool once mapped. */
  recycleUpload(buffer: GpuBuffer): void {
    buffer.mapAsync(MapMode.WRITE).then(() => this.upload.giveBack(buffer), () => this.upload.drop(buffer));
  }
}
