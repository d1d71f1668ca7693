// What made a move: the user's own statement, a library call the user made (model.fit, predict…)
// or one of the kernel's helpers (model.to, progress.fit), and which call of it. The report's
// hints use this to tell a loop the user wrote (many calls from one line) from one call that moves
// many tensors (model.to moving 20 weights) or a library that loops on its own (fit's batches).
//
// tfjs-layers reads back losses and metrics in .then() callbacks, where the stack no longer holds
// the cell's frame; AsyncLocalStorage keeps the caller's line across those awaits, so a move made
// there still names its line.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CellLocation } from '../interpreter/cell-hooks';
import type { MoveOrigin } from './device-control';

/** A call's line, or the stack taken at the call, mapped when a move first asks. */
type CallWhere = CellLocation | null | (() => CellLocation | null);

interface RunningCall {
  where: CallWhere;
  origin: MoveOrigin;
  /** A library call's arguments (fit's x and y): advice names the one the policy moved. */
  args?: readonly unknown[];
  /** What it was called on (the model whose fit it is). */
  target?: unknown;
  /** Facts about the call as they were when first asked (see onceInCall). */
  memo?: Map<string, unknown>;
}

const calls = new AsyncLocalStorage<RunningCall>();
let invocations = 0;

/** A fresh invocation id: a move made outside any tracked call (an op's implicit move) is a call of its own. */
export function nextInvocation(): number {
  return ++invocations;
}

/**
 * Runs `call` (and whatever it chains) as one invocation of `origin`, from where `locate` says (asked only when this call is the one that counts). An outer call
 * wins (data() inside array() is array()'s; moves inside fit are fit's), except that a kernel
 * helper is always the kernel's, even inside a library call.
 */
export function withCall<T>(locate: () => CallWhere, origin: Omit<MoveOrigin, 'invocation'>, call: () => T, args?: readonly unknown[], target?: unknown): T {
  const outer = calls.getStore();
  // The outer call's site wins: no stack is taken for this one.
  if (outer !== undefined && (origin.by !== 'kernel' || outer.origin.by === 'kernel')) return call();
  const running: RunningCall = { where: locate() ?? outer?.where ?? null, origin: { ...origin, invocation: nextInvocation() } };
  if (args !== undefined) running.args = args;
  if (target !== undefined) running.target = target;
  return calls.run(running, call);
}

/** The arguments of the library call this code runs under (fit's x, y, options), if it kept them. */
export function currentCallArgs(): readonly unknown[] | null {
  return calls.getStore()?.args ?? null;
}

/**
 * `make()` as first asked in the running call (per `key`), the same answer for the rest of it: the
 * policy moves a model's weights in place, so whether they were on the host is asked at its first move.
 */
export function onceInCall<T>(key: string, make: () => T): T {
  const call = calls.getStore();
  if (call === undefined) return make();
  call.memo ??= new Map();
  if (!call.memo.has(key)) call.memo.set(key, make());
  return call.memo.get(key) as T;
}

/** What the library call this code runs under was called on (its model), if it kept it. */
export function currentCallTarget(): unknown {
  return calls.getStore()?.target;
}

/** The library call's line this code runs under, if any. */
export function currentCallSite(): CellLocation | null {
  const call = calls.getStore();
  if (call === undefined) return null;
  if (typeof call.where === 'function') call.where = call.where();
  return call.where;
}

/** What this code runs under; null outside any tracked call (the user's own op). */
export function currentOrigin(): MoveOrigin | null {
  return calls.getStore()?.origin ?? null;
}

/** The frames of user code a stack holds (`<cell 3>` and its sub-cells'). */
const CELL_FRAME_LINE = /^\s+at .*<cell \d+(?:\.\d+)?>:\d+:\d+/;

/**
 * An error raised in a library call's promise chain (fit's batches run in .then() callbacks) has
 * no frame of the cell that called it: the call's own frames, taken when it was made (`caller`),
 * are added below its stack, so the traceback shows the cell line and caret of the call.
 */
export function withCallerFrames(error: unknown, caller: Error): unknown {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return error;
  if (error.stack.split('\n').some((line) => CELL_FRAME_LINE.test(line))) return error;
  const frames = (caller.stack ?? '').split('\n').filter((line) => CELL_FRAME_LINE.test(line));
  if (frames.length > 0) error.stack = `${error.stack}\n${frames.join('\n')}`;
  return error;
}
