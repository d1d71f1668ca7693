// Each cell's asynchronous work belongs to it. The context is entered when the cell's code starts
// and Node carries it (AsyncLocalStorage) into every continuation, timer and callback the cell
// starts, so that long after the cell replied the kernel still knows whose work is running:
// - an interrupt marks the cell's context, and its leftover work stops at its next step (a tensor
//   op, a move, a readback, output, a timer) instead of running on into later cells;
// - the device layer reports work under the cell that did it, not the one that happens to run.
// Cost (Node 20, measured): the storage turns on promise hooks once, 70–90 ns per await from then
// on (a cell of 100,000 bare awaits: 22 → 31 ms; timers and `1+1` unchanged); reading the context
// is ~5 ns, so the op hook's check costs ~3–9 ns. It is entered once per cell, never per op.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as sleepImmediate, setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { DETACHED_CELL, type CellWork } from './cell-hooks';
import { OUTPUT_ASKED } from './interrupt-line';
import { setInterval as hostSetInterval, setTimeout as hostSetTimeout, setImmediate as hostSetImmediate } from 'node:timers';

/** What a cell's interrupted work throws, and what the cell's error says. */
export class InterruptedError extends Error {
  constructor() {
    super('execution interrupted');
    this.name = 'Interrupted';
  }
}

/** The interrupt error, or the one Node throws when SIGINT stops a breakOnSigint run. */
export function isInterruptError(error: unknown): boolean {
  return error instanceof InterruptedError || (error as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED';
}

/** Something a cell started that it should have awaited (a move, a readback). */
export interface CellTask {
  operation: string;
  /** Captured where the call was made: its frames find the cell line (read only when needed). */
  trace: Error;
  /** Resolves when the task settles: with its error if it failed, else undefined. */
  done: Promise<unknown>;
}

type Timer = ReturnType<typeof hostSetTimeout> | ReturnType<typeof hostSetImmediate>;

export class CellContext {
  interrupted = false;
  /** Timers and intervals the cell's code made that have not run or been cleared yet. */
  private readonly timers = new Set<Timer>();
  private readonly stoppers = new Set<() => void>();
  /** Moves and readbacks started under this cell and not settled when it was started. */
  readonly tasks = new Set<CellTask>();

  constructor(readonly executionCount: number) {}

  /** Stops the cell's work: its timers are cleared, and everything that asked to be told is. */
  interrupt(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    for (const timer of this.timers) clearTimer(timer);
    this.timers.clear();
    for (const stop of [...this.stoppers]) {
      try {
        stop();
      } catch {
        // one listener failing (a model already disposed) must not keep the others from stopping
      }
    }
    this.stoppers.clear();
  }

  /** Calls `stop` when the cell is interrupted; the returned function cancels that. */
  onInterrupt(stop: () => void): () => void {
    if (this.interrupted) {
      stop();
      return () => undefined;
    }
    this.stoppers.add(stop);
    return () => void this.stoppers.delete(stop);
  }

  /**
   * Remembers a move or readback until the returned function is called. (A reaction added to the
   * user's own promise would cut V8's async stack traces, which find the cell line of a move.)
   */
  track(operation: string): (error?: unknown) => void {
    let settle: (error: unknown) => void = () => undefined;
    const task: CellTask = { operation, trace: new Error(operation), done: new Promise((resolve) => { settle = resolve; }) };
    this.tasks.add(task);
    return (error) => {
      this.tasks.delete(task);
      settle(error);
    };
  }

  addTimer(timer: Timer): void {
    this.timers.add(timer);
  }

  dropTimer(timer: Timer): void {
    this.timers.delete(timer);
  }
}

function clearTimer(timer: Timer): void {
  if ((timer as { _onImmediate?: unknown })._onImmediate !== undefined) clearImmediate(timer as ReturnType<typeof hostSetImmediate>);
  else clearTimeout(timer as ReturnType<typeof hostSetTimeout>);
}

const storage = new AsyncLocalStorage<CellContext>();

/**
 * Detached work's own context: never interrupted, and owned by no cell (cells count from 1), so
 * the device layer leaves its ops and moves out of every report. Without a context of its own it
 * would look like the kernel's own work, which the running cell's report counts.
 */
const DETACHED_CONTEXT = new CellContext(DETACHED_CELL);

/** The cell the running code belongs to; undefined for the kernel's own work and detached work. */
export function currentCell(): CellContext | undefined {
  return storage.getStore();
}

/** Runs `run` as cell work: it and everything it starts belong to `cell`. */
export function runInCell<T>(cell: CellContext, run: () => T): T {
  return storage.run(cell, run);
}

/**
 * Reads the interrupt line the protocol worker shares with this thread. An interrupt arrives as a
 * message, which waits for the event loop: a loop of awaits that settle at once (`await
 * x.sum().data()` on cpu) never lets it in, so its ops and output look at the line themselves.
 */
let pollInterrupt: () => void = () => undefined;

export function setInterruptPoll(poll: () => void): void {
  pollInterrupt = poll;
}

/** The running code's cell, marked interrupted first if the interrupt line says it was. */
function checkedCell(): CellContext | undefined {
  const cell = storage.getStore();
  if (cell !== undefined && !cell.interrupted) pollInterrupt();
  return cell;
}

/** Throws the interrupt error when the running code belongs to an interrupted cell. */
export function stopIfInterrupted(): void {
  if (checkedCell()?.interrupted === true) throw new InterruptedError();
}

/**
 * What the cells' loops read at each iteration (`if (__tsgpu.line.pending[0] !== 0) __tsgpu.loop();`,
 * inserted by the emit): the execute call the last interrupt was for, in the memory the protocol
 * worker shares (interrupt-line.ts PENDING), 0 once seen not to be the running cell's. A plain
 * read: V8 does not move a typed array's element load out of a loop, and an `Atomics.load` there
 * made the tightest loops ~19× slower (a builtin call each time), this read ~3.5× (bench:loop-checks;
 * interrupt.test.ts fails if a V8 ever hoists it). A call only when it is set. Before the line is
 * connected (no protocol worker) it stays 0.
 */
export const loopLine: { pending: Int32Array<ArrayBufferLike> } = { pending: new Int32Array(1) };

/** Whether `id` is the execute call running now; whether its script is inside its breakOnSigint run (where SIGINT stops it). */
let runningCell: (id: number) => boolean = () => false;
let inItsRun: (id: number) => boolean = () => false;

let sendKeptOutput: () => void = () => undefined;

export function setLoopLine(pending: Int32Array, running: (id: number) => boolean, inRun: (id: number) => boolean, sendKept: () => void): void {
  loopLine.pending = pending;
  runningCell = running;
  inItsRun = inRun;
  sendKeptOutput = sendKept;
}

/**
 * A cell's loop saw an interrupt pending. Only a cell's code before its first await runs where
 * SIGINT can break a loop (a breakOnSigint run); after it, a loop that makes no tensor op and no
 * output never read the interrupt line, and `await null; while (true) {}` could not be stopped at
 * all. V8's own termination is no way out there: with async context tracking on, Node aborts
 * after it. An interrupt for a cell that is no longer running is cleared here, so later loops
 * read 0 again.
 */
export function loopTick(): void {
  const id = Atomics.load(loopLine.pending, 0);
  if (id === 0) return;
  if (id === OUTPUT_ASKED) {
    // An interrupt that came meanwhile replaced the ask: it stays for the next iteration.
    Atomics.compareExchange(loopLine.pending, 0, OUTPUT_ASKED, 0);
    sendKeptOutput();
    return;
  }
  if (!runningCell(id)) Atomics.compareExchange(loopLine.pending, 0, id, 0);
  else if (!inItsRun(id)) stopIfInterrupted();
}


/**
 * The documented opt-out: `detach(() => setInterval(poll, 1000))` starts work that belongs to no
 * cell, so an interrupt does not stop it and no cell's report counts it.
 */
export function detach<T>(run: () => T): T {
  return storage.run(DETACHED_CONTEXT, run);
}

type Callback = (...args: unknown[]) => void;

/**
 * The timer functions a cell's code sees (passed to it as parameters, so only the cell's own code
 * and the functions it defines use them; libraries and the kernel keep Node's). A timer made under
 * a cell is cleared when the cell is interrupted, and one whose cell was interrupted does not run.
 * Node's globals are left alone on purpose: Dawn polls the GPU with the global setImmediate, and a
 * poll that happened to start under an interrupted cell must keep running for every later one.
 */
export const cellTimers = {
  setTimeout(callback: Callback, ms?: number, ...args: unknown[]): ReturnType<typeof hostSetTimeout> {
    const cell = storage.getStore();
    if (cell === undefined) return hostSetTimeout(callback, ms, ...args);
    if (cell.interrupted) throw new InterruptedError();
    const timer = hostSetTimeout(() => {
      cell.dropTimer(timer);
      if (!cell.interrupted) callback(...args);
    }, ms);
    cell.addTimer(timer);
    return timer;
  },
  setInterval(callback: Callback, ms?: number, ...args: unknown[]): ReturnType<typeof hostSetInterval> {
    const cell = storage.getStore();
    if (cell === undefined) return hostSetInterval(callback, ms, ...args);
    if (cell.interrupted) throw new InterruptedError();
    const timer = hostSetInterval(() => {
      if (cell.interrupted) clearInterval(timer);
      else callback(...args);
    }, ms);
    cell.addTimer(timer);
    return timer;
  },
  // Through the global at call time: the device layer paces Dawn's GPU polls around the immediates
  // waiting there (a poll that sleeps would hold them up), so it must see the cell's too.
  setImmediate(callback: Callback, ...args: unknown[]): ReturnType<typeof hostSetImmediate> {
    const cell = storage.getStore();
    if (cell === undefined) return globalThis.setImmediate(callback, ...args);
    if (cell.interrupted) throw new InterruptedError();
    const timer = globalThis.setImmediate(() => {
      cell.dropTimer(timer);
      if (!cell.interrupted) callback(...args);
    });
    cell.addTimer(timer);
    return timer;
  },
  clearTimeout(timer: ReturnType<typeof hostSetTimeout> | undefined): void {
    if (timer === undefined) return;
    storage.getStore()?.dropTimer(timer);
    clearTimeout(timer);
  },
  clearInterval(timer: ReturnType<typeof hostSetInterval> | undefined): void {
    if (timer === undefined) return;
    storage.getStore()?.dropTimer(timer);
    clearInterval(timer);
  },
  clearImmediate(timer: ReturnType<typeof hostSetImmediate> | undefined): void {
    if (timer === undefined) return;
    storage.getStore()?.dropTimer(timer);
    clearImmediate(timer);
  },
};

// `promisify(setTimeout)` in a cell: Node's promise timers; what awaits them is still the cell's work.
Object.defineProperty(cellTimers.setTimeout, promisify.custom, { value: sleep });
Object.defineProperty(cellTimers.setImmediate, promisify.custom, { value: sleepImmediate });

const noop = (): void => undefined;

/** The device layer's view of cell work (cell-hooks.ts). */
export const cellWork: CellWork = {
  check() {
    const cell = checkedCell();
    if (cell === undefined) return null;
    if (cell.interrupted) throw new InterruptedError();
    return cell.executionCount;
  },
  owner() {
    return storage.getStore()?.executionCount ?? null;
  },
  onInterrupt(stop) {
    return storage.getStore()?.onInterrupt(stop) ?? (() => undefined);
  },
  started(operation) {
    return storage.getStore()?.track(operation) ?? noop;
  },
};

/** The names cells get as parameters, in order, and their values. */
export const CELL_TIMER_NAMES = Object.keys(cellTimers) as (keyof typeof cellTimers)[];
export const CELL_TIMER_VALUES: unknown[] = CELL_TIMER_NAMES.map((name) => cellTimers[name]);
