// Which cell an interrupt is for, in memory shared by the protocol worker and the main thread, so
// that an interrupt stops the cell it was sent to and never a later one.
//
// Only SIGINT breaks a synchronous loop (vm's breakOnSigint), and Node handles it safely only
// while a breakOnSigint run is under way. Around the edges of a run it does not (measured, Node 20,
// two busy cores): a signal in the µs as a run starts or ends killed the process (about 1 in 100
// sent as a cell started); one in a run's last moments was kept by Node and stopped the next run
// (half of those sent as 1 ms runs ended). Hence:
// - a run only starts if its cell was not interrupted (INTERRUPTED), checked inside the run;
// - the kernel sends SIGINT only to a cell whose script is inside its run (RUNNING), and such a
//   run does not end before that signal has stopped it (DECIDED);
// - the start of a run no longer leaves SIGINT at its default (see hideSigintListeners).
// Each check is Dekker-style: a side writes its own slot, then reads the other's, so at least one
// of them sees the other (Atomics are sequentially consistent). A SIGINT from outside the kernel
// can still land after the event loop last looked at signals and before a run's watchdog installs
// its handler (Node's listener takes it and the cell runs on; Node creates the watchdog's thread
// for each run, so on loaded cores this lasts ms), or as a run ends (Node keeps it for the next
// run): nothing tells those from others.
import vm from 'node:vm';

const CURRENT = 0; // the execute call the protocol worker has started and not yet seen end (0: none)
const INTERRUPTED = 1; // the execute call the last interrupt was for
const RUNNING = 2; // the execute call whose script is inside a breakOnSigint run now
const DECIDED = 3; // +id: no signal was sent to that call's run; -id: one was
/** The execute call the last interrupt was for, until the main thread sees it is not the running one (loopTick): what the cells' loops read at each iteration. */
export const PENDING = 4;
/** 1 while the main thread keeps printed text back (output-capture.ts), 0 once it is sent. */
const OUTPUT_KEPT = 5;
const SLOTS = 6;

/**
 * What PENDING holds (never a call id: those count from 1) when the worker asks the running cell's
 * loops to send text the main thread kept back: a synchronous loop gives the main thread's flush
 * timer no turn, as a loop of awaits that settle at once does, and its last lines stayed back
 * until it ended or was interrupted. The loops read PENDING at every iteration already.
 */
export const OUTPUT_ASKED = -1;

/** If a signal sent into a run has not stopped it by then, something else went wrong: let the run end. */
const SIGNAL_WAIT_MS = 2000;

export function createInterruptLine(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
}

export type InterruptOutcome = 'signalled' | 'marked' | 'already';

/** The protocol worker's half. Call ids are the InterpreterClient's, unique for the kernel's life. */
export class InterruptSender {
  private readonly slots: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = new Int32Array(buffer);
  }

  cellStarted(id: number): void {
    Atomics.store(this.slots, CURRENT, id);
  }

  cellEnded(id: number): void {
    Atomics.compareExchange(this.slots, CURRENT, id, 0);
  }

  /** The cell an interrupt arriving now is for; 0 between cells. */
  current(): number {
    return Atomics.load(this.slots, CURRENT);
  }

  /** Asks the running cell's loops for the text the main thread keeps back, if any; an interrupt pending stays as it is. */
  askForKeptOutput(): void {
    if (Atomics.load(this.slots, OUTPUT_KEPT) !== 0) Atomics.compareExchange(this.slots, PENDING, 0, OUTPUT_ASKED);
  }

  /**
   * Marks cell `id` interrupted, so a run it starts later refuses to, and sends SIGINT if its
   * script is inside a run now. 'already' when an earlier interrupt of that cell did this.
   */
  interrupt(id: number): InterruptOutcome {
    if (Atomics.exchange(this.slots, INTERRUPTED, id) === id) return 'already';
    Atomics.store(this.slots, PENDING, id);
    const running = Atomics.load(this.slots, RUNNING) === id;
    if (running) process.kill(process.pid, 'SIGINT');
    Atomics.store(this.slots, DECIDED, running ? -id : id);
    return running ? 'signalled' : 'marked';
  }
}

/** What the runner script calls, from inside its breakOnSigint run. */
let entered: (() => unknown) | null = null;
let runner: vm.Script | null = null;

/**
 * breakOnSigint is only offered by vm.Script. One script that calls back into the kernel serves
 * every cell, so V8's compilation cache holds it once: a vm.Script per cell stayed in that cache
 * for good (about 1 KiB each, measured).
 */
function runnerScript(): vm.Script {
  if (runner) return runner;
  const key = 'tsgpu.cell-runner';
  Object.defineProperty(globalThis, Symbol.for(key), { value: () => entered?.() });
  runner = new vm.Script(`globalThis[Symbol.for(${JSON.stringify(key)})]()`, { filename: '[tsgpu cell runner]' });
  return runner;
}

// vm wraps a breakOnSigint run in a process with SIGINT listeners: it removes them, which puts
// SIGINT back to its default (exit) until the watchdog's handler is installed tens of µs later.
// Hidden from vm's check, the listeners stay and the watchdog's handler replaces theirs in one
// step. After the run (Node leaves its exit handler installed) they are restarted, as vm would do.
const listenerCount = process.listenerCount;

function hideSigintListeners(): void {
  process.listenerCount = (type: string | symbol, listener?: Function): number =>
    (type === 'SIGINT' ? 0 : listenerCount.call(process, type, listener));
}

function showSigintListeners(): void {
  if (Object.hasOwn(process, 'listenerCount')) delete (process as { listenerCount?: unknown }).listenerCount;
}

function restartSigintListeners(): void {
  const listeners = process.rawListeners('SIGINT') as ((signal: NodeJS.Signals) => void)[];
  process.removeAllListeners('SIGINT');
  for (const listener of listeners) process.addListener('SIGINT', listener);
}

/** The code Node gives a run stopped by SIGINT; the interpreter reports it as Interrupted. */
export function interruptedError(): Error {
  return Object.assign(new Error('Script execution was interrupted by `SIGINT`'), { code: 'ERR_SCRIPT_EXECUTION_INTERRUPTED' });
}

/** Calls `inside` from a breakOnSigint run: SIGINT stops it (ERR_SCRIPT_EXECUTION_INTERRUPTED). */
export function callUnderSigint(inside: () => unknown): unknown {
  entered = () => {
    showSigintListeners();
    return inside();
  };
  hideSigintListeners();
  try {
    return runnerScript().runInThisContext({ breakOnSigint: true, displayErrors: false });
  } finally {
    showSigintListeners();
    restartSigintListeners();
    entered = null;
  }
}

/** The main thread's half. */
export class InterruptReceiver {
  private readonly slots: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = new Int32Array(buffer);
  }

  /** The cell the protocol worker has started and not yet seen end: the one a SIGINT is for. */
  current(): number {
    return Atomics.load(this.slots, CURRENT);
  }

  interrupted(id: number): boolean {
    return Atomics.load(this.slots, INTERRUPTED) === id;
  }

  /**
   * Whether call `id`'s script is inside its breakOnSigint run now: an interrupt for it then sends
   * SIGINT, which stops the run; a cell's loop there must leave the stop to it (a loop that threw
   * first ended the run while the signal was on its way, and the run's end then waited 2 s for a
   * signal that never came: 1 interrupt in 20 was taken for lost).
   */
  inRun(id: number): boolean {
    return Atomics.load(this.slots, RUNNING) === id;
  }

  /** Whether printed text is kept back now (the worker asks the cell's loops for it: OUTPUT_ASKED). */
  outputKept(kept: boolean): void {
    Atomics.store(this.slots, OUTPUT_KEPT, kept ? 1 : 0);
  }

  /** The PENDING slot alone, for the cells' loops to read (cell-context.ts loopLine). */
  pendingView(): Int32Array {
    return new Int32Array(this.slots.buffer, PENDING * Int32Array.BYTES_PER_ELEMENT, 1);
  }

  /**
   * Calls `cell` under SIGINT as execute call `id` (null: outside a cell, such as a user
   * expression); throws ERR_SCRIPT_EXECUTION_INTERRUPTED if that cell was interrupted.
   */
  run(id: number | null, cell: () => unknown): unknown {
    const call = (): unknown => cell.call(globalThis);
    if (id === null) return callUnderSigint(call);
    try {
      return callUnderSigint(() => this.inside(id, call));
    } finally {
      // A run the signal stopped never reached inside()'s finally.
      Atomics.compareExchange(this.slots, RUNNING, id, 0);
    }
  }

  /** Set here, inside the run, the RUNNING mark covers only time while the watchdog is installed. */
  private inside(id: number, call: () => unknown): unknown {
    Atomics.store(this.slots, RUNNING, id);
    try {
      if (Atomics.load(this.slots, INTERRUPTED) === id) throw interruptedError();
      return call();
    } finally {
      Atomics.store(this.slots, RUNNING, 0);
      if (Atomics.load(this.slots, INTERRUPTED) === id) this.awaitSignal(id);
    }
  }

  /**
   * An interrupt for this cell saw its run and may have signalled it: until it says it did not,
   * stay inside the run, so a signal sent lands here and not in a later run.
   */
  private awaitSignal(id: number): void {
    const deadline = Date.now() + SIGNAL_WAIT_MS;
    while (Atomics.load(this.slots, DECIDED) !== id && Date.now() < deadline) {
      // -id: the signal is on its way and stops this loop; anything else: the sender is between its writes.
    }
  }
}
