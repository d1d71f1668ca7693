// The GPUs' clocks as the device session uses them: one per started GPU, always timing (with
// %report off too: a later report's waits may be for that work), reading the times along with
// moves while a report or a profile wants them; each cell's busy intervals collected at its end;
// and a move's wait and copy measured apart.
import type { MoveWait } from '../device-control';
import type { WebGpuBackend } from '../transfer/gpu-types';
import { type ClockedBackend, GpuClock, type GpuInterval, type RanBefore } from './gpu-clock';
import { notingMove, stagingMadeWithin, type StampCopy } from '../transfer/move-notes';
import { AWAY_MIN_MS, awayBeforeNow, awaySpans, type Span } from './host-away';
import { waitsFromCall } from './move-call';
import { moveWaits } from './move-waits';
import { unionMs } from './intervals';
import { heldAround, queuedWorkDone, queueIdle, waitForQueuedWork } from './queue-wait';

/** Waits after the first, at most, for work the cell queued while a move waited its turn. */
const MAX_REWAITS = 8;

/**
 * Chunks this big have their landing timed on the GPU whatever the queue held: another move's wait
 * behind them was for the GPU copying them (see busyMs in move-waits.ts), and only the landing says
 * when that ended. One timestamp costs ~0.1 ms on lavapipe, nothing beside a 1 MiB copy.
 */
const STAMPED_BYTES = 1 << 20;

/** How long a cell's end waits for its GPU times: a GPU that finished returns them within a few ms. */
const SETTLE_MS = 20;

/**
 * A move from its call: `firstUse` when its GPU was not ready (set up on the way), `held` the times
 * other code ran since the call, `yieldedAt` when its own code last let the thread go before it.
 */
export interface MoveSetUp {
  calledAt: number;
  yieldedAt: number;
  firstUse: boolean;
  held: readonly Span[];
}

export interface MoveTiming {
  waitMs: number;
  copyMs: number;
  waits: MoveWait[];
  /**
   * When the copy ended (performance.now()), where the move went on after it (a small upload's
   * write returns at once, and its record comes later); absent: the copy ended at the record.
   */
  copyEnd?: number;
  /**
   * The copy was one call on the thread (a small upload's writeBuffer): a collection that paused
   * the thread during it held the copy up, and is not copy (timing/collections.ts).
   */
  copyOnThread?: true;
}

/** `untimedPasses`: compute passes since the last collect that brought timestampWrites of their own (tf.time, tf.profile), which the clock cannot time. */
/**
 * `heldBack`: tfjs still held recorded work when the cell ended, submitted by the clock then, and
 * everything submitted before it finished within the settle time: that work ran after the cell.
 */
/** `ranBefore`: work whose times reports not shown took (it ran before this cell began). */
export type CellGpuTimes = Map<string, { intervals: GpuInterval[]; ranBefore: RanBefore; clock: GpuClock; untimedPasses: number; heldBack?: boolean }>;

export class GpuTiming {
  readonly clocks = new Map<string, GpuClock>();
  private readAlong = true;
  /** Submits of tfjs's recorded work per GPU, counted so a move's wait can see work queued while it waited. */
  private readonly submits = new Map<string, { count: number }>();

  constructor(private readonly cellNow: () => number) {}

  /** Starts timing a GPU the first time it is used. */
  /** When each GPU's set-up last let the thread go (see setUpFirst). */
  private readonly setUpYielded = new Map<string, number>();

  async attach(device: string, backend: WebGpuBackend): Promise<void> {
    if (this.clocks.has(device)) return;
    const clock = new GpuClock(backend as unknown as ClockedBackend, this.cellNow);
    this.clocks.set(device, clock);
    const installing = clock.install();
    // The set-up ran on the thread until here (the backend made, the clock's first steps): what follows may wait on the cell's code.
    this.setUpYielded.set(device, performance.now());
    await installing;
    clock.readAlong = this.readAlong;
    const counter = { count: 0 };
    this.submits.set(device, counter);
    const submit = backend.submitQueue.bind(backend);
    backend.submitQueue = () => {
      counter.count++;
      submit();
    };
  }

  /**
   * Times when a move's copies land, on this GPU's clock (`landing`), and resolves with them the
   * times of the GPU work closed before them: the move waited for it.
   */
  private stamper(clock: GpuClock | undefined, landing: boolean): StampCopy | null {
    return clock ? (encoder, record, bytes) => clock.stampCopy(encoder, record, landing || bytes >= STAMPED_BYTES) : null;
  }

  /** A move's copy, run so that what it submits reads the GPU's times along with it (see GpuClock.duringMove). */
  private static alongMove<T>(clock: GpuClock | undefined, copy: () => Promise<T>): () => Promise<T> {
    return clock ? () => clock.duringMove(copy) : copy;
  }

  /** Whether moves read the GPU's times along (see GpuClock.readAlong): while a report or a profile is shown. */
  setReadAlong(on: boolean): void {
    this.readAlong = on;
    for (const clock of this.clocks.values()) clock.readAlong = on;
  }

  /**
   * GPU work that finished, per device. A GPU that finished the cell's work has its times back
   * within a few ms (`settle`); one still busy is not waited for (its work shows with a later
   * cell). A profile waits for every op's time (`all`); a cell that shows no report does not wait
   * (`none`): what has not arrived is taken by the next.
   */
  async collect(wait: 'all' | 'settle' | 'none'): Promise<CellGpuTimes> {
    const times: CellGpuTimes = new Map();
    for (const [device, clock] of this.clocks) {
      const { heldBack } = clock.flush();
      if (wait === 'all') await clock.settled();
      else if (wait === 'settle') await Promise.race([clock.settled(), new Promise((resolve) => setTimeout(resolve, SETTLE_MS))]);
      times.set(device, { intervals: clock.take(), ranBefore: clock.takeRanBefore(), clock, untimedPasses: clock.untimedPasses, heldBack: heldBack?.earlierDone ?? false });
      clock.untimedPasses = 0;
    }
    return times;
  }

  /** GPU work that finished so far, per device, left for the next collect (a fold in the middle of a cell splits by it). */
  arrivedSoFar(): Map<string, { intervals: GpuInterval[]; clock: GpuClock }> {
    return new Map([...this.clocks].map(([device, clock]) => [device, { intervals: clock.arrivedSoFar(), clock }]));
  }

  /** Gives back what `collect` took, for a cell that shows no report: it is taken again by the next. */
  keep(times: CellGpuTimes): void {
    for (const { intervals, ranBefore, clock, untimedPasses } of times.values()) {
      clock.keepRanBefore(intervals, ranBefore);
      clock.untimedPasses += untimedPasses;
    }
  }

  /**
   * Waits for the GPU's queued work, then runs `copy`: the two timed apart, and the time this move
   * spent making staging buffers counted as a wait.
   */
  async waitThenCopy<T>(device: string, gpu: WebGpuBackend | null, copy: () => Promise<T>, setUp?: MoveSetUp): Promise<{ value: T; timing: MoveTiming }> {
    // Before this, the move may have set its GPU up (first use: backend, clock): that is the move's
    // wait too, and where the cell's code held the thread meanwhile (`const p = x.to('gpu:0');
    // await tick;` then a host loop), the set-up was done long before the thread came back to it.
    const before = setUp === undefined ? null : this.setUpFirst(device, setUp);
    if (before !== null) {
      const { value, timing } = await this.waitThenCopy(device, gpu, copy);
      return { value, timing: { waitMs: timing.waitMs + before.ms, copyMs: timing.copyMs, waits: [...before.waits, ...timing.waits] } };
    }
    if (gpu === null) {
      const started = performance.now();
      const value = await copy();
      return { value, timing: { waitMs: 0, copyMs: performance.now() - started, waits: [] } };
    }
    const clock = this.clocks.get(device);
    const submits = this.submits.get(device);
    const entered = performance.now();
    let queued = await waitForQueuedWork(gpu, clock, submits);
    // The cell runs on while this move waits its turn (`const p = x.data();` then more ops, then
    // `await p`), and the copy is submitted behind whatever it recorded or submitted meanwhile:
    // that is waited for here too, or its time would be counted as the copy's (a 4 KiB read behind
    // six 1024² matMuls on an idle GPU showed copy 4.7 s, wait 0).
    for (let again = 0; again < MAX_REWAITS && (gpu.commandEncoder || !(clock?.idle ?? true)); again++) {
      const more = await waitForQueuedWork(gpu, clock, submits);
      queued = { ms: queued.ms + more.ms, cells: [...new Set([...queued.cells, ...more.cells])], fences: [...queued.fences, ...more.fences] };
    }
    queued = heldAround(queued, entered);
    const started = performance.now();
    // The copy starts after this move's first await, once the cell's code has yielded; but the
    // cell's code runs on after its own next await (`const p = x.to('gpu:0'); await tick;` then a
    // host loop, then `await p`), and the copy is then seen landing late: its copies are timed on
    // the GPU, so that the time the thread held it up is not counted as the copy's.
    const { value, notes } = await notingMove(this.stamper(clock, true), GpuTiming.alongMove(clock, copy), { cell: this.cellNow(), device });
    const ended = performance.now();
    // Its own new buffers (for any chunk), and those other moves made on the thread meanwhile.
    const staging = [...notes.setup, ...notes.othersSetup];
    const stagingMs = Math.min(ended - started, unionMs(staging));
    // Buffers made or first mapped for other moves while this move's fences were out may have held them up.
    const fenceSetup = stagingMadeWithin(queued.fences.map((fence) => ({ start: fence.start, end: fence.end })));
    const waits = moveWaits(device, this.cellNow(), queued, stagingMs, notes, started, ended, staging, fenceSetup);
    return { value, timing: { waitMs: queued.ms + stagingMs, copyMs: ended - started - stagingMs, waits } };
  }

  /**
   * The time from a move's call until now (null when it took no time): set-up where it set its GPU
   * up first, less the time the thread ran other code meanwhile (see move-call.ts), or was away
   * after the set-up's last step on the thread (`yieldedAt`); host busy where not.
   */
  private setUpFirst(device: string, { calledAt, yieldedAt, firstUse, held }: MoveSetUp): { ms: number; waits: MoveWait[] } | null {
    const polled = firstUse ? awaySpans(awayBeforeNow(Math.max(yieldedAt, this.setUpYielded.get(device) ?? -Infinity))) : [];
    return waitsFromCall(device, calledAt, firstUse, [...held, ...polled]);
  }

  /**
   * A read of GPU values: its copy is queued right behind the GPU's queued work (one round trip,
   * as tfjs's own read), with a fence before it that says when that work finished. The wait is
   * until the fence, and the staging set-up (the read's own buffers for any chunk, and buffers
   * other moves made on the thread meanwhile) after the fence; the copy is the rest.
   */
  async waitAlongsideCopy<T>(device: string, gpu: WebGpuBackend | null, copy: () => Promise<T>): Promise<{ value: T; timing: MoveTiming }> {
    if (gpu === null) return this.waitThenCopy(device, gpu, copy);
    const started = performance.now();
    const clock = this.clocks.get(device);
    const fence = queuedWorkDone(gpu, clock);
    const idle = queueIdle(clock);
    // A failed copy is what the caller hears about; the fence's failure then says nothing more.
    fence.catch(() => undefined);
    // On an idle GPU no fence tells when the GPU got to the copy: if the cell's code holds the
    // thread before its await (`const p = x.data();` then host code), the copy is seen late, and
    // only the GPU's clock says when it landed. Behind queued work the fence says it.
    const { value, notes } = await notingMove(this.stamper(clock, idle), GpuTiming.alongMove(clock, copy), { cell: this.cellNow(), device });
    const queued = await fence;
    const now = performance.now();
    // Once its last chunk is in host memory (and its fence seen) the read only hands its values
    // back, through awaits with nothing to wait for: code that ran before them (the cell's own, in
    // a .then on a fence of its own that the same poll resolved ahead of the read's) held it up.
    // A 4-byte read behind such a 500 ms loop showed 'copy 501 ms'. Host busy, not its copy.
    const lastStep = notes.hostWork.length > 0 ? Math.max(...notes.hostWork.map((work) => work.end), ...queued.fences.map((seen) => seen.end)) : now;
    const handingBack = now - lastStep >= AWAY_MIN_MS ? now - lastStep : 0;
    const elapsed = now - handingBack - started;
    // Set-up while the GPU did the queued work was hidden by that wait; only what ran after it held the read up.
    const fenceEnd = started + queued.ms;
    const made = [...notes.setup, ...notes.othersSetup];
    const staging = made.map((span) => ({ start: Math.max(span.start, fenceEnd), end: span.end })).filter((span) => span.end > span.start);
    // Set-up during the fence is hidden only where the GPU ran work meanwhile: where it did not, the
    // set-up held the fence up (the split at the cell's end tells the two apart by the GPU's times).
    const fenceSetup = [...made.map((span) => ({ start: span.start, end: Math.min(span.end, fenceEnd) })).filter((span) => span.end > span.start),
      ...stagingMadeWithin([{ start: started, end: fenceEnd }])];
    const stagingMs = Math.min(unionMs(staging), Math.max(0, elapsed - queued.ms));
    const waitMs = Math.min(elapsed, queued.ms + stagingMs);
    const waits = moveWaits(device, this.cellNow(), queued, stagingMs, notes, started + waitMs, started + elapsed, staging, fenceSetup);
    if (handingBack > 0) waits.push({ cause: 'host-busy', ms: handingBack, device, earlierCells: [] });
    return { value, timing: { waitMs: waitMs + handingBack, copyMs: elapsed - waitMs, waits } };
  }
}
