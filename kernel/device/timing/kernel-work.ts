// The kernel's own work on users' calls, as time on the thread. Stretches between a move's steps,
// or a wait's time away, less this, are other code's; and where a call returned, the cell's own
// code ran next (a read's `const p = x.data();` then code before `await p`).
import type { Span } from './host-away';

/** Less than this, other code between a move's steps is a microtask's hop, not the cell's code. */
export const MEASURED_MIN_MS = 0.05;

/**
 * The kernel's own work on users' calls: each call's synchronous part (x.to() from its entry until
 * it returns its promise) and its move's steps up to the copy, in time order and disjoint. A
 * `Promise.all` of 200 moves runs the 199 other calls, and their steps, between a move's call and
 * its next step: that is the kernel's work, not the cell's, and was shown as 15 ms of host busy.
 */
const kernelWork: Span[] = [];
/** Per entry of kernelWork, whether a user's call returned its promise at its end (the cell's code ran next). */
const returnedAtEnd: boolean[] = [];
/** Per entry of kernelWork, the time of the entries before it: coverage of any stretch in O(log n). */
const workBefore: number[] = [];
/** Enough for a `Promise.all` of that many moves; older ones go, and count as the cell's. */
const KERNEL_WORK_KEPT = 20_000;
/** Before this (on performance.now()'s clock), the kernel's work is no longer known: its entries went. */
let knownFrom = -Infinity;

/** Where the kernel's work on calls is still known from: stretches before it may hold work no longer listed. */
export function kernelWorkKnownFrom(): number {
  return knownFrom;
}

/**
 * A user's call ran the kernel's code from `start` to `end` (its synchronous part, or a step of its
 * move). `returned`: the call's synchronous part, which ends handing its promise to the cell's code.
 */
export function noteKernelWork(start: number, end: number, returned = false): void {
  if (kernelWork.length >= KERNEL_WORK_KEPT) {
    kernelWork.splice(0, KERNEL_WORK_KEPT / 2);
    workBefore.splice(0, KERNEL_WORK_KEPT / 2);
    returnedAtEnd.splice(0, KERNEL_WORK_KEPT / 2);
    knownFrom = kernelWork[0]!.start;
  }
  // A call's synchronous part can hold its move's first steps (x.cpu() runs to its first await
  // inside it), noted before it: it takes their place.
  while (kernelWork.length > 0 && kernelWork.at(-1)!.start >= start) {
    kernelWork.pop();
    workBefore.pop();
    returnedAtEnd.pop();
  }
  const last = kernelWork.at(-1);
  if (last !== undefined && last.end > start) {
    if (end >= last.end) returnedAtEnd[returnedAtEnd.length - 1] = returned;
    last.end = Math.max(last.end, end);
  } else {
    workBefore.push(last === undefined ? 0 : workBefore.at(-1)! + last.end - last.start);
    kernelWork.push({ start, end });
    returnedAtEnd.push(returned);
  }
}

/** The first entry of kernelWork for which `past(entry)` holds (entries are sorted, and so is `past`). */
function firstWhere(past: (work: Span) => boolean): number {
  let low = 0;
  let high = kernelWork.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (past(kernelWork[middle]!)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * How much of `span` the kernel's work on calls covers (kernelWork is sorted and disjoint). In
 * O(log n): a `Promise.all` of 2,000 moves, each move's stretches spanning every other call's work,
 * took 11 s where it took 0.4 s when each move listed the stretches one by one.
 */
function kernelWorkWithin(span: Span): number {
  const first = firstWhere((work) => work.end > span.start);
  const last = firstWhere((work) => work.start >= span.end) - 1;
  if (first > last) return 0;
  const lastWork = kernelWork[last]!;
  const whole = workBefore[last]! + lastWork.end - lastWork.start - workBefore[first]!;
  return Math.max(0, whole - Math.max(0, span.start - kernelWork[first]!.start) - Math.max(0, lastWork.end - span.end));
}

/** Whether some of the kernel's work on calls began inside `span` (after its start), in O(log n). */
export function kernelWorkBeginsIn(span: Span): boolean {
  const next = kernelWork[firstWhere((work) => work.start > span.start)];
  return next !== undefined && next.start < span.end;
}

/** `span` less the kernel's work on calls, as one stretch of that length from its start: the time other code had. */
export function lessKernelWork(span: Span): Span[] {
  const left = span.end - span.start - kernelWorkWithin(span);
  return left > 0 ? [{ start: span.start, end: span.start + left }] : [];
}

/**
 * The kernel's work on calls within `span`, as the pieces of it there, and whether a user's call
 * returned its promise in it (at a piece's end): the cell's own code ran after it there.
 */
export function kernelWorkIn(span: Span): { pieces: Span[]; callReturned: boolean } {
  const pieces: Span[] = [];
  let callReturned = false;
  for (let index = firstWhere((work) => work.end > span.start); index < kernelWork.length && kernelWork[index]!.start < span.end; index++) {
    const work = kernelWork[index]!;
    pieces.push({ start: Math.max(work.start, span.start), end: Math.min(work.end, span.end) });
    if (work.end <= span.end && returnedAtEnd[index] === true) callReturned = true;
  }
  return { pieces, callReturned };
}
