// When a GPU was busy, read from the GPU's own clock. tfjs-backend-webgpu records its dispatches
// into compute passes (up to WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE per submit); each pass gets a
// begin/end timestamp here, resolved into a small buffer at submit and read back asynchronously,
// so the figure costs one tiny map per submit and never waits for the GPU. tfjs's own
// timestamp support (backend.time) only works inside tf.profile and ends a pass per dispatch.
// Without `timestamp-query` the fallback is fenced: each submit's span is from its submission (or
// the previous one's end) to onSubmittedWorkDone, which includes idle gaps and is labelled so.
import type { GpuBuffer } from '../transfer/gpu-types';
import { BufferUsage, MapMode } from '../transfer/gpu-types';

/** One stretch of GPU work, in performance.now() milliseconds, with the cell that queued it. */
export interface GpuInterval {
  start: number;
  end: number;
  cell: number;
  /** The op whose dispatches the pass held, while %profile gives each op a pass of its own. */
  label: string | null;
}

export type GpuTimeSource = 'timestamps' | 'fenced';

interface QuerySetLike {
  destroy(): void;
}

interface TimestampWrites {
  querySet: QuerySetLike;
  beginningOfPassWriteIndex: number;
  endOfPassWriteIndex: number;
}

interface PassEncoderLike {
  end(): void;
}

interface EncoderLike {
  beginComputePass(descriptor?: { timestampWrites?: TimestampWrites }): PassEncoderLike;
  resolveQuerySet(querySet: QuerySetLike, first: number, count: number, destination: GpuBuffer, offset: number): void;
  copyBufferToBuffer(source: GpuBuffer, sourceOffset: number, destination: GpuBuffer, destinationOffset: number, size: number): void;
}

/** The parts of tfjs-backend-webgpu 4.22's backend the clock wraps (dist/backend_webgpu.js). */
export interface ClockedBackend {
  readonly device: {
    readonly features: { has(name: string): boolean };
    readonly queue: { onSubmittedWorkDone(): Promise<void> };
    createQuerySet(descriptor: { type: 'timestamp'; count: number }): QuerySetLike;
    createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
  };
  commandEncoder: unknown;
  ensureCommandEncoderReady(): void;
  submitQueue(): void;
}

/** Passes timed per submit; tfjs submits after 15 dispatches by default, each pass holding many. */
const PASSES_PER_SET = 64;
const QUERY_RESOLVE = 0x200;

/** Query set, resolve buffer and readback buffer for one submit's passes, reused once read. */
interface TimestampSlots {
  querySet: QuerySetLike;
  resolve: GpuBuffer;
  read: GpuBuffer;
  used: number;
  cell: number;
  /** Per timed pass: the op it was begun for, while profiling. */
  labels: (string | null)[];
}

export class GpuClock {
  readonly source: GpuTimeSource;
  private readonly idleSlots: TimestampSlots[] = [];
  private readonly slotsOf = new WeakMap<object, TimestampSlots>();
  private arrived: GpuInterval[] = [];
  /** Cells whose submitted work has not been seen to finish yet, one entry per submit. */
  private readonly inFlight: number[] = [];
  private readonly reads = new Set<Promise<void>>();
  private lastFencedEnd = 0;
  /** Work was submitted while timing was off: whether the GPU is idle is not known. */
  private untracked = false;
  /** performance.now() = GPU ns / 1e6 + offset. */
  private offsetMs = 0;
  /** While %profile runs an op: passes begun now are that op's. */
  label: string | null = null;
  /** Off (with %report off and no %profile) the GPU's work is neither timed nor tracked: it costs nothing then. */
  enabled = true;

  constructor(private readonly backend: ClockedBackend, private readonly cellNow: () => number) {
    // TSGPU_GPU_TIME=fenced tries the fallback on a GPU that has timestamps (CI checks it that way).
    const fenced = process.env['TSGPU_GPU_TIME'] === 'fenced' || !backend.device.features.has('timestamp-query');
    this.source = fenced ? 'fenced' : 'timestamps';
  }

  /** Wraps the backend's encoder creation and submit. Call once per backend. */
  async install(): Promise<void> {
    if (this.source === 'timestamps') await this.calibrate();
    const backend = this.backend;
    const ensure = backend.ensureCommandEncoderReady.bind(backend);
    const submit = backend.submitQueue.bind(backend);
    backend.ensureCommandEncoderReady = () => {
      const before = backend.commandEncoder;
      ensure();
      if (backend.commandEncoder !== before && backend.commandEncoder && this.enabled && this.source === 'timestamps') this.instrument(backend.commandEncoder as EncoderLike);
    };
    backend.submitQueue = () => {
      const encoder = backend.commandEncoder as EncoderLike | null;
      const slots = encoder ? this.slotsOf.get(encoder) : undefined;
      if (encoder && slots && slots.used > 0) {
        encoder.resolveQuerySet(slots.querySet, 0, slots.used, slots.resolve, 0);
        encoder.copyBufferToBuffer(slots.resolve, 0, slots.read, 0, slots.used * 8);
      }
      if (!this.enabled && !slots) {
        submit();
        this.untracked = true;
        return;
      }
      const cell = slots?.cell ?? this.cellNow();
      const submitted = performance.now();
      submit();
      this.inFlight.push(cell);
      if (slots && slots.used > 0) this.track(this.readSlots(slots));
      else if (this.source === 'fenced') this.track(this.fence(submitted, cell, true));
      else {
        // A submit without compute (tfjs's own copies): no fence for it, which would cost a round
        // trip through Dawn per submit; a readback right after it counts its copy as copy time.
        if (slots) this.idleSlots.push(slots);
        this.inFlight.pop();
      }
    };
  }

  /** GPU work that finished since the last call. */
  take(): GpuInterval[] {
    const arrived = this.arrived;
    this.arrived = [];
    return arrived;
  }

  /** True when every submit so far has been seen to finish (never while submits go untracked). */
  get idle(): boolean {
    return this.inFlight.length === 0 && !this.untracked;
  }

  /** Turns timing on or off; work submitted while off makes `idle` unknown until a fence says otherwise. */
  setEnabled(on: boolean): void {
    this.enabled = on;
  }

  /** Told by a fence that the GPU finished everything submitted before it. */
  sawIdle(): void {
    if (this.inFlight.length === 0) this.untracked = false;
  }

  /** Cells whose work is still queued or running. */
  pendingCells(): number[] {
    return [...new Set(this.inFlight)];
  }

  /** Resolves once every submit so far has finished and its times have arrived. */
  async settled(): Promise<void> {
    while (this.reads.size > 0) await Promise.all([...this.reads]);
  }

  /**
   * Dawn reports timestamps in nanoseconds of the GPU's clock. lavapipe's is the host's
   * CLOCK_MONOTONIC, as is process.hrtime; other GPUs' differ, so an empty timed pass on the idle
   * queue sets the offset (its begin lies just after the submit).
   */
  private async calibrate(): Promise<void> {
    const device = this.backend.device;
    const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
    const resolve = device.createBuffer({ size: 16, usage: QUERY_RESOLVE | BufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const encoder = (device as unknown as { createCommandEncoder(): EncoderLike & { finish(): unknown } }).createCommandEncoder();
    encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } }).end();
    encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
    encoder.copyBufferToBuffer(resolve, 0, read, 0, 16);
    const hostNs = process.hrtime.bigint();
    const hostMs = performance.now();
    (device as unknown as { queue: { submit(buffers: unknown[]): void } }).queue.submit([encoder.finish()]);
    await read.mapAsync(MapMode.READ);
    const begin = new BigInt64Array(read.getMappedRange(0, 16))[0]!;
    read.unmap();
    read.destroy();
    resolve.destroy();
    querySet.destroy();
    const sameClock = begin - hostNs >= 0n && begin - hostNs < 1_000_000_000n;
    this.offsetMs = sameClock ? hostMs - Number(hostNs) / 1e6 : hostMs - Number(begin) / 1e6;
  }

  private instrument(encoder: EncoderLike): void {
    const begin = encoder.beginComputePass.bind(encoder);
    const slots = this.idleSlots.pop() ?? this.newSlots();
    slots.used = 0;
    slots.labels = [];
    slots.cell = this.cellNow();
    this.slotsOf.set(encoder, slots);
    // An own property on Dawn's encoder object: tfjs calls encoder.beginComputePass(descriptor).
    encoder.beginComputePass = (descriptor) => {
      // tfjs's tf.profile path brings its own timestampWrites; a set that is full leaves the rest untimed.
      if (descriptor?.timestampWrites || slots.used + 2 > PASSES_PER_SET * 2) return begin(descriptor);
      const writes = { querySet: slots.querySet, beginningOfPassWriteIndex: slots.used, endOfPassWriteIndex: slots.used + 1 };
      slots.used += 2;
      slots.labels.push(this.label);
      return begin({ ...descriptor, timestampWrites: writes });
    };
  }

  private newSlots(): TimestampSlots {
    const device = this.backend.device;
    const bytes = PASSES_PER_SET * 2 * 8;
    return {
      querySet: device.createQuerySet({ type: 'timestamp', count: PASSES_PER_SET * 2 }),
      resolve: device.createBuffer({ size: bytes, usage: QUERY_RESOLVE | BufferUsage.COPY_SRC }),
      read: device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST }),
      used: 0,
      cell: 0,
      labels: [],
    };
  }

  private async readSlots(slots: TimestampSlots): Promise<void> {
    try {
      await slots.read.mapAsync(MapMode.READ, 0, slots.used * 8);
      const times = new BigInt64Array(slots.read.getMappedRange(0, slots.used * 8));
      for (let i = 0; i + 1 < slots.used; i += 2) {
        const start = Number(times[i]!) / 1e6 + this.offsetMs;
        const end = Number(times[i + 1]!) / 1e6 + this.offsetMs;
        // A pass the GPU skipped writes zeros; such a pair says nothing.
        if (end >= start && times[i]! > 0n) this.arrived.push({ start, end, cell: slots.cell, label: slots.labels[i / 2] ?? null });
      }
      slots.read.unmap();
      this.idleSlots.push(slots);
    } finally {
      this.inFlight.shift();
    }
  }

  private async fence(submitted: number, cell: number, record: boolean): Promise<void> {
    try {
      await this.backend.device.queue.onSubmittedWorkDone();
      const end = performance.now();
      if (record) this.arrived.push({ start: Math.max(submitted, this.lastFencedEnd), end, cell, label: null });
      this.lastFencedEnd = end;
    } finally {
      this.inFlight.shift();
    }
  }

  private track(read: Promise<void>): void {
    this.reads.add(read);
    void read.catch(() => undefined).finally(() => this.reads.delete(read));
  }
}
