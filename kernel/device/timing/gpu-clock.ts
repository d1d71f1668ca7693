// When a GPU was busy, read from the GPU's own clock. tfjs-backend-webgpu records its dispatches
// into compute passes (up to WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE per submit) in one command encoder
// per submit. Each encoder that holds a compute pass gets two timestamps: at the start of its first
// pass, and at its end (an empty pass recorded just before tfjs submits it); the span between them
// is the GPU running that command buffer (its passes and the copies between them). The seed
// training cell opens ~1230 passes in ~270 submits: a pair per pass was 4.5x the timestamp writes
// (lavapipe flushes its pipeline at each). While %profile times an op, each of its passes gets a
// pair of its own. The timestamps go into one query set of 4096 for as long as it lasts. A move
// (a read, an upload) waits for the GPU's work before it returns: the spans closed so far are
// resolved inside the move's own command buffer (or tfjs's submit the move makes), and read with it
// (one small map, no submit or fence of the clock's own), so that a cell still busy at its end has
// the times of the work its reads waited for. The rest is resolved and read when the cell ends (one
// submit and one map of the clock's own, after the cell's work; where tfjs still held work, the
// spans submitted before it are resolved ahead of it, its own after it), or, when the set fills
// mid-cell, inside tfjs's next submit. The clock never fences or waits while a cell runs.
// With %report off (and no %profile) the clock still times every submit: a later cell's read that
// waits for that work must say whose it was (stopped, the work went untimed and a reported cell
// called a 2.4 s wait for it its own GPU work). Only the reading along is left out then (no cell
// report wants the times before the cell ends): in a 200-step loop of tiny ops with a read per
// step it cost +15% of the main thread's CPU on lavapipe; the spans alone, against no timing at
// all, -11% to +9% in three runs (noise on two shared cores), 3,000 tiny ops -2% to +2%.
// tfjs's own timestamp support (backend.time) only works inside tf.profile and ends a pass per
// dispatch. Without `timestamp-query` the fallback is fenced: each submit's span is from its
// submission (or the previous one's end) to onSubmittedWorkDone, idle gaps included, labelled so.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { GpuBuffer } from '../transfer/gpu-types';
import { BufferUsage, MapMode } from '../transfer/gpu-types';
import type { GpuLanding, StampableEncoder } from '../transfer/move-notes';
import { unionMs } from './intervals';
import { DETACHED_CELL } from '../../interpreter/cell-hooks';

/** One stretch of GPU work, in performance.now() milliseconds, with the cell that queued it. */
export interface GpuInterval {
  start: number;
  end: number;
  /** The cell whose code queued it (DETACHED_CELL for detached work), not the cell running then. */
  cell: number;
  /** The op whose dispatches the pass held, while %profile gives each op a pass of its own. */
  label: string | null;
  /** Which of tfjs's submits carried it (1 for the first): the queue runs them in this order. */
  submit: number;
}

export type GpuTimeSource = 'timestamps' | 'fenced';

/** GPU work that ran before any cell now running began, as a later report names it: its time (overlaps once) and the cells that queued it. */
export interface RanBefore {
  ms: number;
  cells: number[];
}

interface QuerySetLike {
  destroy(): void;
}

interface TimestampWrites {
  querySet: QuerySetLike;
  beginningOfPassWriteIndex?: number;
  endOfPassWriteIndex?: number;
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
  /** tfjs's device.queue: the clock maps a readback once the submit that carries its copy is made. */
  readonly queue: { submit(buffers: unknown[]): void };
  readonly device: {
    readonly features: { has(name: string): boolean };
    readonly queue: { onSubmittedWorkDone(): Promise<void> };
    createQuerySet(descriptor: { type: 'timestamp'; count: number }): QuerySetLike;
    createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
  };
  commandEncoder: unknown;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** WebGPU's largest query set: 2048 timed spans (the seed's training cell makes ~270). */
const QUERIES_PER_SET = 4096;
const QUERY_RESOLVE = 0x200;

/** Query set and resolve buffer, reused once every part of it is read. */
interface TimestampSlots {
  querySet: QuerySetLike;
  resolve: GpuBuffer;
  /** Queries handed out, two per span. */
  used: number;
  /** Per span: the cell that recorded it, the op it was begun for while profiling, and the submit that carries it (0: a move's own, submitted at once). */
  cells: number[];
  labels: (string | null)[];
  submits: number[];
  /** Per span: where a move's copy wants its landing time (not a cell's GPU work, not in the intervals), else null. */
  copies: (GpuLanding | null)[];
  /** Spans resolved so far (they come first: a set is resolved in order). */
  resolvedPairs: number;
  /** No more spans are taken from it: reused once no part of it is being read. */
  retired: boolean;
  /** Parts of the set resolved and not read yet. */
  reading: number;
}

/** Queries [first, first + count) of a set, resolved and read together. */
interface SetPiece {
  slots: TimestampSlots;
  first: number;
  count: number;
}

/** A piece resolved into a readback buffer of its own, mapped once the submit that carries it is made. */
interface ReadPiece extends SetPiece {
  buffer: GpuBuffer;
}

const READBACK_BYTES = QUERIES_PER_SET * 8;

/** An encoder's span: its begin written with its first pass, its end not yet recorded. */
interface OpenSpan {
  encoder: EncoderLike;
  slots: TimestampSlots;
  index: number;
  /** The encoder's own beginComputePass, for the empty pass that writes the end. */
  begin: EncoderLike['beginComputePass'];
}

export class GpuClock {
  readonly source: GpuTimeSource;
  private readonly idleSlots: TimestampSlots[] = [];
  /** The set new spans take their timestamps from, and full ones not yet resolved. */
  private current: TimestampSlots | null = null;
  private readonly full: TimestampSlots[] = [];
  /** The span of the encoder tfjs is recording now, if it has begun a compute pass. */
  private span: OpenSpan | null = null;
  private arrived: GpuInterval[] = [];
  /** Work whose times were taken for reports not shown: only its sum and cells are kept (see keepRanBefore). */
  private ranBefore = { ms: 0, cells: new Set<number>() };
  /** Fenced: cells whose submitted work has not been seen to finish yet, one entry per submit. */
  private readonly inFlight: number[] = [];
  /** Timestamps: cells that submitted work since a fence last saw the GPU idle. */
  private readonly sinceIdle = new Set<number>();
  private readonly cellOf = new WeakMap<object, number>();
  private readonly reads = new Set<Promise<void>>();
  /** Readback buffers free for a piece, and pieces recorded into a command buffer not submitted yet. */
  private readonly readbacks: GpuBuffer[] = [];
  private readonly unsubmitted: ReadPiece[] = [];
  /** Set while a move runs (see duringMove). */
  private readonly moving = new AsyncLocalStorage<true>();
  private lastFencedEnd = 0;
  /** performance.now() = GPU ns / 1e6 + offset. */
  private offsetMs = 0;
  /** While %profile runs an op: passes begun now are that op's. */
  label: string | null = null;
  /** Compute passes begun with timestampWrites of their own (tf.time, tf.profile): their GPU time is not in the clock's intervals. */
  untimedPasses = 0;
  /** Off (with %report off and no %profile) moves do not read the times along, nor stamp their copies: the cell's end reads them. */
  readAlong = true;
  /** tfjs's submits so far: a fence begun now waits for the intervals of submits up to this one. */
  submitted = 0;

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
      let before = backend.commandEncoder;
      // tfjs batches ops into one encoder until it submits, and the clock times an encoder as one
      // span, named for the cell whose code began it: ops of another cell's code (an earlier cell's
      // timer, detached work) submit the open batch first. Mixed, the running cell's 20 matMuls
      // were 60% booked to the earlier cell whose 4 began the batch.
      if (before && this.cellOf.get(before) !== this.cellNow()) {
        backend.endComputePassEncoder();
        backend.submitQueue();
        before = backend.commandEncoder;
      }
      ensure();
      const encoder = backend.commandEncoder as EncoderLike | null;
      if (encoder === before || encoder === null) return;
      this.cellOf.set(encoder, this.cellNow());
      if (this.source === 'timestamps') this.instrument(encoder);
    };
    // Every submit, tfjs's or a move's or the clock's own: the pieces its command buffers resolved
    // are mapped once it is made (mapping before would make the submit fail).
    const queue = backend.queue;
    const submitBuffers = queue.submit.bind(queue);
    queue.submit = (buffers: unknown[]) => {
      submitBuffers(buffers);
      for (const piece of this.unsubmitted.splice(0)) this.track(this.readPiece(piece));
    };
    backend.submitQueue = () => {
      const encoder = backend.commandEncoder as EncoderLike | null;
      const cell = (encoder && this.cellOf.get(encoder)) ?? this.cellNow();
      // The end of the encoder's span, then the sets that filled up (every span in them is closed
      // now), resolved in the same command buffer: no submit of the clock's own. A move's submit
      // (a read submits what tfjs held first) resolves every span closed so far with it.
      if (encoder && this.span?.encoder === encoder) {
        backend.endComputePassEncoder();
        this.closeSpan(this.span);
      }
      if (encoder && this.full.length > 0) {
        backend.endComputePassEncoder();
        for (const slots of this.full.splice(0)) {
          this.resolveInto(encoder, slots, slots.used / 2);
          this.retire(slots);
        }
      }
      if (encoder && this.readAlong && this.moving.getStore() === true && this.closedToResolve(this.submitted + 1)) {
        backend.endComputePassEncoder();
        this.resolveClosed(encoder, this.submitted + 1);
      }
      const submitted = performance.now();
      submit();
      this.submitted++;
      if (this.source === 'fenced') {
        this.inFlight.push(cell);
        this.track(this.fence(submitted, cell, this.submitted));
        return;
      }
      this.sinceIdle.add(cell);
    };
  }

  /**
   * Runs a move: the command buffers it submits resolve the spans closed before them, so that the
   * times of the work it waited for come back with it (read along, not when the cell ends).
   */
  duringMove<T>(move: () => Promise<T>): Promise<T> {
    return this.source === 'timestamps' ? this.moving.run(true, move) : move();
  }

  /** Spans of a set closed by now, from the first not yet resolved: each went with a submit up to `limit` (a move's own count as submitted). */
  private closedPairs(slots: TimestampSlots, limit: number): number {
    let pairs = slots.resolvedPairs;
    while (pairs < slots.submits.length && slots.submits[pairs]! <= limit) pairs++;
    return pairs;
  }

  /** Whether some GPU work (not only a move's landing time) is closed and not resolved yet. */
  private closedToResolve(limit: number): boolean {
    return this.openSets().some((slots) => {
      const closed = this.closedPairs(slots, limit);
      for (let pair = slots.resolvedPairs; pair < closed; pair++) if (!slots.copies[pair]) return true;
      return false;
    });
  }

  private openSets(): TimestampSlots[] {
    return this.current ? [...this.full, this.current] : [...this.full];
  }

  /** Records into `encoder` (no pass open) the resolve of every span closed so far, read once it is submitted. */
  private resolveClosed(encoder: EncoderLike, limit: number): void {
    for (const slots of this.openSets()) {
      const closed = this.closedPairs(slots, limit);
      if (closed > slots.resolvedPairs) this.resolveInto(encoder, slots, closed);
    }
  }

  /** Resolves a set's spans from the first not resolved up to `upTo` into a readback buffer, mapped after the next submit. */
  private resolveInto(encoder: EncoderLike, slots: TimestampSlots, upTo: number): void {
    const first = slots.resolvedPairs * 2;
    const count = upTo * 2 - first;
    if (count <= 0) return;
    const buffer = this.readbacks.pop() ?? this.backend.device.createBuffer({ size: READBACK_BYTES, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    // The resolve buffer is written from 0 each time: the queue runs the pieces' copies in order.
    encoder.resolveQuerySet(slots.querySet, first, count, slots.resolve, 0);
    encoder.copyBufferToBuffer(slots.resolve, 0, buffer, 0, count * 8);
    slots.resolvedPairs = upTo;
    slots.reading++;
    this.unsubmitted.push({ slots, first, count, buffer });
  }

  /** A set that takes no more spans; reused at once when no part of it is being read. */
  private retire(slots: TimestampSlots): void {
    slots.retired = true;
    if (slots.reading === 0) this.idleSlots.push(slots);
  }

  /**
   * Reads back every timestamp written so far: submits what tfjs recorded but has not submitted
   * (its passes hold timestamps), then resolves the sets. Called when a cell ends.
   */
  flush(): { heldBack: { earlierDone: boolean } | null } {
    if (this.source !== 'timestamps') return { heldBack: null };
    const backend = this.backend;
    const sets = this.openSets();
    this.full.splice(0);
    this.current = null;
    // tfjs holds recorded work until it has a batch (or something reads): submitted only here, it
    // ran after the cell, on a GPU that may have been idle all along. A fence first says when the
    // work submitted before it was done, so that the report can tell the two apart.
    let heldBack: { earlierDone: boolean } | null = null;
    if (backend.commandEncoder) {
      const held = { earlierDone: this.idle };
      if (!held.earlierDone) backend.device.queue.onSubmittedWorkDone().then(() => { held.earlierDone = true; }, () => undefined);
      // Detached work's batch is no cell's: its time shows with no later cell either.
      if (this.cellOf.get(backend.commandEncoder) !== DETACHED_CELL) heldBack = held;
      // The times of the work submitted already are resolved ahead of the held work: behind it they
      // came back only once it had run too, after the cell, and a cell whose read waited for its own
      // pass showed no GPU time, while the next showed that pass as left running by this cell.
      this.resolveNow(sets.map((slots) => ({ slots, upTo: this.closedPairs(slots, this.submitted) })));
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
    this.resolveNow(sets.map((slots) => ({ slots, upTo: slots.used / 2 })));
    for (const slots of sets) this.retire(slots);
    return { heldBack };
  }

  /** Resolves sets up to a span each in a submit of the clock's own, queued behind everything submitted so far, and reads them. */
  private resolveNow(all: { slots: TimestampSlots; upTo: number }[]): void {
    const pieces = all.filter(({ slots, upTo }) => upTo > slots.resolvedPairs);
    if (pieces.length === 0) return;
    const device = this.backend.device as unknown as { createCommandEncoder(): EncoderLike & { finish(): unknown } };
    const encoder = device.createCommandEncoder();
    for (const { slots, upTo } of pieces) this.resolveInto(encoder, slots, upTo);
    this.backend.queue.submit([encoder.finish()]);
  }

  /** GPU work that finished since the last take(), left for it. */
  arrivedSoFar(): GpuInterval[] {
    return [...this.arrived];
  }

  /** GPU work that finished since the last call. */
  take(): GpuInterval[] {
    const arrived = this.arrived;
    this.arrived = [];
    return arrived;
  }

  /** What reports not shown left for the next (see keepRanBefore), taken once. */
  takeRanBefore(): RanBefore {
    const ranBefore = { ms: this.ranBefore.ms, cells: [...this.ranBefore.cells].sort((a, b) => a - b) };
    this.ranBefore = { ms: 0, cells: new Set() };
    return ranBefore;
  }

  /**
   * Times taken for a report that was not shown, for the next report that is. They arrived, so the
   * work had finished: to any later cell it ran before the cell began, and that is all a report
   * says of it (ranBeforeMs and its cells). Only the sum and the cells are kept: kept whole, one
   * interval per submit over thousands of unreported cells grew without bound. The queue runs
   * command buffers one after another, so work kept at different cells' ends does not overlap.
   */
  keepRanBefore(intervals: readonly GpuInterval[], earlier: RanBefore): void {
    const counted = intervals.filter((interval) => interval.cell !== DETACHED_CELL);
    this.ranBefore.ms += earlier.ms + unionMs(counted);
    for (const cell of [...earlier.cells, ...counted.map((interval) => interval.cell)]) this.ranBefore.cells.add(cell);
  }

  /** True when every submit so far has been seen to finish. */
  get idle(): boolean {
    return this.source === 'fenced' ? this.inFlight.length === 0 : this.sinceIdle.size === 0;
  }

  /** Told by a fence that the GPU finished everything submitted before it. */
  sawIdle(): void {
    this.sinceIdle.clear();
  }

  /** Timestamps not back yet: the GPU has not finished the work they time. */
  get pending(): boolean {
    return this.reads.size > 0;
  }

  /** Cells whose work is still queued or running. */
  pendingCells(): number[] {
    return [...new Set(this.source === 'fenced' ? this.inFlight : this.sinceIdle)];
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
    const cell = this.cellNow();
    // An own property on Dawn's encoder object: tfjs calls encoder.beginComputePass(descriptor).
    encoder.beginComputePass = (descriptor) => {
      // tfjs's tf.profile path brings its own timestampWrites: counted, as the clock cannot time it.
      if (descriptor?.timestampWrites) {
        this.untimedPasses++;
        return begin(descriptor);
      }
      // A profiled op's pass: timed on its own, begin and end.
      if (this.label !== null) {
        const { slots, index } = this.takePair(cell, this.label);
        return begin({ ...descriptor, timestampWrites: { querySet: slots.querySet, beginningOfPassWriteIndex: index, endOfPassWriteIndex: index + 1 } });
      }
      if (this.span?.encoder === encoder) return begin(descriptor);
      // The encoder's first pass (another encoder's span, never submitted, is left unwritten: its pair reads as zeros).
      const { slots, index } = this.takePair(cell, null);
      this.span = { encoder, slots, index, begin };
      return begin({ ...descriptor, timestampWrites: { querySet: slots.querySet, beginningOfPassWriteIndex: index } });
    };
  }

  /** Two queries for one span; a set that cannot hold them is full and waits to be resolved. */
  private takePair(cell: number, label: string | null): { slots: TimestampSlots; index: number } {
    let slots = this.current;
    if (slots === null || slots.used + 2 > QUERIES_PER_SET) {
      if (slots !== null) this.full.push(slots);
      slots = this.idleSlots.pop() ?? this.newSlots();
      slots.used = 0;
      slots.cells = [];
      slots.labels = [];
      slots.submits = [];
      slots.copies = [];
      slots.resolvedPairs = 0;
      slots.retired = false;
      this.current = slots;
    }
    const index = slots.used;
    slots.used += 2;
    slots.cells.push(cell);
    slots.labels.push(label);
    // tfjs records into one encoder at a time: a pass begun now goes with its next submit.
    slots.submits.push(this.submitted + 1);
    slots.copies.push(null);
    return { slots, index };
  }

  /**
   * Records a move's copy into its own encoder with a timestamp after it, read with the cell's
   * others: when the thread saw the copy land late, the GPU says when it landed. One timestamp, not
   * two: each costs ~0.1 ms on lavapipe, on a read of ~0.1 ms. Not a cell's GPU work (a read's
   * copy is not counted as GPU time).
   */
  stampCopy(encoder: StampableEncoder, record: () => void, landing: boolean): GpuLanding | null {
    if (this.source !== 'timestamps' || !this.readAlong) {
      record();
      return null;
    }
    let landed: GpuLanding | null = null;
    if (landing) {
      const { slots, index } = this.takePair(this.cellNow(), null);
      landed = { at: NaN };
      slots.copies[slots.copies.length - 1] = landed;
      // Submitted with the move's own command buffer, right after this returns.
      slots.submits[slots.submits.length - 1] = 0;
      record();
      encoder.beginComputePass({ timestampWrites: { querySet: slots.querySet, endOfPassWriteIndex: index + 1 } }).end();
    } else {
      record();
    }
    // The move's copy runs after the work it waited for: those spans' times come back with it.
    if (this.closedToResolve(this.submitted)) this.resolveClosed(encoder as unknown as EncoderLike, this.submitted);
    return landed;
  }

  /** Records the span's end: an empty pass after everything the encoder holds. */
  private closeSpan(span: OpenSpan): void {
    span.begin({ timestampWrites: { querySet: span.slots.querySet, endOfPassWriteIndex: span.index + 1 } }).end();
    this.span = null;
  }

  private newSlots(): TimestampSlots {
    const device = this.backend.device;
    const bytes = QUERIES_PER_SET * 8;
    return {
      querySet: device.createQuerySet({ type: 'timestamp', count: QUERIES_PER_SET }),
      resolve: device.createBuffer({ size: bytes, usage: QUERY_RESOLVE | BufferUsage.COPY_SRC }),
      used: 0,
      cells: [],
      labels: [],
      submits: [],
      copies: [],
      resolvedPairs: 0,
      retired: false,
      reading: 0,
    };
  }

  private async readPiece({ slots, first, count, buffer }: ReadPiece): Promise<void> {
    let mapped = false;
    try {
      await buffer.mapAsync(MapMode.READ, 0, count * 8);
      mapped = true;
      const times = new BigInt64Array(buffer.getMappedRange(0, count * 8));
      for (let at = 0; at + 1 < count; at += 2) {
        const start = Number(times[at]!) / 1e6 + this.offsetMs;
        const end = Number(times[at + 1]!) / 1e6 + this.offsetMs;
        const pair = (first + at) / 2;
        // A pair never written (a pass the GPU skipped, a span whose end was not recorded) reads as zeros: it says nothing.
        const copy = slots.copies[pair];
        if (copy) {
          if (times[at + 1]! > 0n) copy.at = end;
        } else if (end >= start && times[at]! > 0n) {
          this.arrived.push({ start, end, cell: slots.cells[pair] ?? 0, label: slots.labels[pair] ?? null, submit: slots.submits[pair] ?? 0 });
        }
      }
      buffer.unmap();
    } finally {
      // A buffer that failed to map is let go (its device may be lost).
      if (mapped) this.readbacks.push(buffer);
      // The set is reused once it takes no more spans and every part of it is read.
      if (--slots.reading === 0 && slots.retired) this.idleSlots.push(slots);
    }
  }

  private async fence(submitted: number, cell: number, submit: number): Promise<void> {
    try {
      await this.backend.device.queue.onSubmittedWorkDone();
      const end = performance.now();
      this.arrived.push({ start: Math.max(submitted, this.lastFencedEnd), end, cell, label: null, submit });
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
