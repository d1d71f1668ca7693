// A move's time runs from the user's call (x.to('gpu:0')), not from when the kernel's code got to
// it. Between the two the thread may run the cell's own code: `const p = x.to('gpu:0');` then a
// busy loop before `await p` (the move starts after the loop), or `await null` then a loop (the
// move's chain is parked at one of its awaits meanwhile). That time held the move up: host busy.
//
// A GPU's first move also sets the GPU up on its way (Dawn's device, tfjs's backend, the clock).
// To tell the set-up's own time from the cell's code run meanwhile, each promise reaction that
// runs while such a call is watched is timed, and those of promises the move's own code made
// (inside run()) are the set-up's; the others, and the rest of the caller's synchronous run after
// the call, are other code. V8's promise hooks are on only while a first move is under way.
import { AsyncLocalStorage } from 'node:async_hooks';
import { promiseHooks } from 'node:v8';
import { afterCopyMs } from '../covered-time';
import type { MoveWait } from '../device-control';
import type { MoveEvent } from '../placement';
import { AWAY_MIN_MS, type Span } from './host-away';
import { unionMs } from './intervals';
import { lessKernelWork, MEASURED_MIN_MS, noteKernelWork } from './kernel-work';

/** Marks the move's own code: promises made while it runs are its. */
const ownCode = new AsyncLocalStorage<true>();
const ownPromises = new WeakSet<Promise<unknown>>();
const watched = new Set<MoveCall>();
let stopHooks: (() => void) | null = null;
/** The reaction running now: when it began (null between reactions). */
let reactionStart: number | null = null;

function reactionBegins(): void {
  const now = performance.now();
  for (const call of watched) call.callerRanUntil(now);
  reactionStart = now;
}

function reactionEnds(promise: Promise<unknown>): void {
  const now = performance.now();
  const start = reactionStart;
  reactionStart = null;
  for (const call of watched) {
    // An end without a beginning is the caller's own reaction, the one that made the call.
    if (start === null) call.callerRanUntil(now);
    else if (!ownPromises.has(promise)) call.otherCode({ start, end: now });
  }
}

function watch(call: MoveCall): void {
  watched.add(call);
  stopHooks ??= promiseHooks.createHook({
    init(promise) {
      if (ownCode.getStore() === true) ownPromises.add(promise);
    },
    before: reactionBegins,
    after: reactionEnds,
  }) as () => void;
}

function unwatch(call: MoveCall): void {
  watched.delete(call);
  if (watched.size === 0 && stopHooks !== null) {
    stopHooks();
    stopHooks = null;
    reactionStart = null;
  }
}

/** Calls being watched now (0 once every watched move has settled: the hooks are off). */
export function watchedCalls(): number {
  return watched.size;
}


/** One user call of a move, from the moment it was made. */
export class MoveCall {
  private readonly other: Span[] = [];
  private callerDone = false;
  private watching: boolean;
  private readonly watched: boolean;
  /** When the call's synchronous part returned its promise to the cell (null until then). */
  private returnedAt: number | null = null;
  /** Where the move's code last let the thread go, after the call returned; null while it runs. */
  private pausedAt: number | null = null;
  /** Where the move's code last got the thread back, after the call returned: its step since is the kernel's work. */
  private resumedAt: number | null = null;
  /** The stretches between the move's steps, after the call returned: other code had the thread. */
  private readonly between: Span[] = [];
  /** What finish() found of them, other calls' work taken out. */
  private held: Span[] | null = null;

  /**
   * `setUpAhead`: the move may set a GPU up first (not every GPU is ready): the cell's code is told
   * apart from the set-up's. `calledAt`: when the user's call entered the kernel.
   */
  constructor(setUpAhead: boolean, readonly calledAt = performance.now()) {
    this.watching = setUpAhead;
    this.watched = setUpAhead;
    if (setUpAhead) watch(this);
  }

  /** Runs the move's own code (promises it makes are the move's); the watch ends with it, whatever its outcome (a device name that does not resolve). */
  async run<T>(move: () => Promise<T>): Promise<T> {
    try {
      return await (this.watching ? ownCode.run(true, move) : move());
    } finally {
      this.finish();
    }
  }

  /** The caller's synchronous run, which made the call, went on until `at`: its own code, not the move's. */
  callerRanUntil(at: number): void {
    if (this.callerDone) return;
    this.callerDone = true;
    this.other.push({ start: this.calledAt, end: at });
  }

  otherCode(span: Span): void {
    this.other.push(span);
  }

  /**
   * The call's synchronous part returned its promise at `at`: the move's code is parked at its first
   * await, and the cell's code runs until it awaits (or the move's next step gets its turn).
   */
  returned(at: number): void {
    if (this.returnedAt !== null) return;
    this.returnedAt = at;
    this.pausedAt = at;
  }

  /** The move's code is about to await: what runs until it resumes is other code. */
  paused(): void {
    if (this.returnedAt === null) return;
    this.pausedAt = performance.now();
    this.stepEnded(this.pausedAt);
  }

  /** The move's code runs again. Steps before the call returned are the call's synchronous part. */
  resumed(): void {
    if (this.pausedAt === null) return;
    this.resumedAt = performance.now();
    this.between.push({ start: this.pausedAt, end: this.resumedAt });
    this.pausedAt = null;
  }

  /** The move's step since it last resumed ends at `at`: other moves' waits count it as the kernel's. */
  private stepEnded(at: number): void {
    if (this.resumedAt !== null) noteKernelWork(this.resumedAt, at);
    this.resumedAt = null;
  }

  /**
   * Stops watching; the times other code ran since the call: as watched (a first move's set-up), or
   * between the move's steps, less other calls' synchronous parts (the kernel's). The rest of the
   * time from the call is the kernel's own work on it.
   */
  finish(): Span[] {
    if (this.watching) unwatch(this);
    this.watching = false;
    if (this.watched) return this.other;
    // Asked again as the move ends (its `finally`s): the stretches up to its copy, as first found.
    if (this.held === null) {
      // Under MEASURED_MIN_MS in all, waitsFromCall counts none of it.
      this.held = this.between.flatMap(lessKernelWork);
      this.stepEnded(performance.now());
    }
    return this.held;
  }
}

/**
 * The waits from a move's call to where its own wait begins (now). `held`: the times other code ran
 * meanwhile, as the call measured them (MoveCall.finish); `'all'` where nothing else but other code
 * can have run (a write's await: the move only waited for its turn). `firstUse`: the move set its
 * GPU up meanwhile, the rest of the time; else the rest is the kernel's own work on the call, which
 * the move's record names (withKernelWork).
 */
export function waitsFromCall(device: string, calledAt: number, firstUse: boolean, held: readonly Span[] | 'all'): { ms: number; waits: MoveWait[] } | null {
  const ms = performance.now() - calledAt;
  const heldMs = held === 'all' ? ms
    : Math.min(ms, unionMs(held.map((span) => ({ start: Math.max(span.start, calledAt), end: span.end })).filter((span) => span.end > span.start)));
  // A first move's watch and an await's turn see whole event-loop turns; a call's own steps are measured apart (MoveCall).
  const away = heldMs >= (firstUse || held === 'all' ? AWAY_MIN_MS : MEASURED_MIN_MS) ? heldMs : 0;
  const setUp = firstUse ? ms - away : 0;
  if (away === 0 && setUp < SET_UP_MIN_MS) return null;
  const waits: MoveWait[] = [];
  if (setUp > 0.001) waits.push({ cause: 'gpu-setup', ms: setUp, device, earlierCells: [] });
  if (away > 0.001) waits.push({ cause: 'host-busy', ms: away, device, earlierCells: [] });
  return { ms: setUp + away, waits };
}

/** A ready GPU answers a move at once: less than this between the call and its wait is no set-up. */
const SET_UP_MIN_MS = 0.5;

/**
 * A user's move timed from the call to its record (`end`, now): the waits and the copy, and what
 * they leave of that time as a `tsgpu` wait. That is the kernel's own work on the call (its
 * wrapper, finding the call's line, choosing the path) and on other calls run meanwhile: the
 * cell's own code between the move's steps is host busy (MoveCall.finish). Left out, 400 small
 * uploads showed 25 ms where the cell's own clock around them gave 62 ms. From `end` on, the
 * time is the answer's way back to the cell's code (CallAnswers).
 */
export function withKernelWork(event: MoveEvent): { waitMs: number; waits: MoveWait[]; end: number } {
  const end = performance.now();
  if (event.calledAt === undefined) return { waitMs: event.waitMs, waits: event.waits, end };
  const rest = end - event.calledAt - event.waitMs - event.copyMs;
  if (!(rest > 0.001)) return { waitMs: event.waitMs, waits: event.waits, end };
  const device = event.direction === 'D2H' ? event.from : event.to;
  // Where the copy ended before the record, the kernel's work after it (its other calls' steps in
  // a Promise.all, this one's record) is after the copy too: only the rest of it came before.
  const after = event.copyEnd === undefined ? 0 : Math.min(rest, Math.max(0, end - event.copyEnd - afterCopyMs(event.waits)));
  const waits = [...event.waits];
  if (rest - after > 0.001) waits.push({ cause: 'tsgpu', ms: rest - after, device, earlierCells: [] });
  if (after > 0.001) waits.push({ cause: 'tsgpu', ms: after, device, earlierCells: [], afterCopy: true });
  return { waitMs: event.waitMs + rest, waits, end };
}
