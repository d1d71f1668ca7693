// Dawn's node binding waits for the GPU (mapAsync, onSubmittedWorkDone) by polling its instance
// from setImmediate: one new native callback per turn of the event loop, about 100 000 a second,
// for as long as any wait lasts. That spins a core at 100%. On a software GPU it is the core the
// GPU's own threads need: a 280 ms lavapipe job took 490 ms to finish with the spin beside it and
// 140 ms without it. The callbacks' garbage also grows V8's young generation by tens of MiB.
//
// The binding's polls are told apart from user code's setImmediate: they are anonymous native
// API functions scheduled with no arguments. For the first part of a wait they run as before, so a
// short readback is seen to end at once. After that, each poll sleeps first, so a long wait costs a
// few thousand polls a second and is seen to end at most one sleep late. A poll never sleeps while
// other code has immediates waiting to run: a loop that yields with setImmediate keeps its pace.

/** A wait shorter than this is polled as fast as the event loop turns. */
const SPIN_MS = 1;
/** After SPIN_MS, each poll first sleeps this long: the most a long wait is seen late by. */
const POLL_SLEEP_MS = 0.2;

type Immediate = typeof setImmediate;

interface Pacing {
  /** Polls run since pacing was installed, and how many of them slept first. */
  polls: number;
  sleptPolls: number;
  /**
   * performance.now() when the latest poll began (before its sleep) and returned, and when the one
   * before it returned. A wait the latest poll saw end was not seen by the one before; between the
   * two the thread was elsewhere (other code, a collection, or not scheduled), not in a poll.
   */
  lastPollStartedAt: number;
  lastPollEndedAt: number;
  previousPollEndedAt: number;
  /**
   * `polls` while the latest poll's own promise jobs are running, else -1. A wait the poll resolved
   * continues in a job queued during the poll, and the poll queues one more after them: until that
   * one runs, the code running is something that poll resolved (it may run long after the poll,
   * behind other jobs that poll queued: another read copying its 8 MiB chunks).
   */
  pollJobsOf: number;
}

const pacing: Pacing = { polls: 0, sleptPolls: 0, lastPollStartedAt: -Infinity, lastPollEndedAt: -Infinity, previousPollEndedAt: -Infinity, pollJobsOf: -1 };
let installed = false;

/**
 * A poll the binding scheduled: a native API function (it has a `prototype`, which a promise's
 * resolve function, also anonymous and native, has not) passed with no arguments.
 */
function isBindingPoll(callback: unknown, args: unknown[]): callback is () => void {
  return typeof callback === 'function' && args.length === 0 && callback.name === '' && callback.length === 0
    && Object.prototype.hasOwnProperty.call(callback, 'prototype')
    && Function.prototype.toString.call(callback).includes('[native code]');
}

/**
 * Installs the pacing on this thread's setImmediate, before `webgpu` loads: the binding reads
 * `setImmediate` from the global object at each poll.
 */
export function paceGpuWaits(): void {
  if (installed) return;
  installed = true;
  const immediate: Immediate = globalThis.setImmediate;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let waitStarted = 0;
  let polling = false;
  /** Other code's immediates not run or cleared yet: while there are any, a poll does not sleep (it would hold them up). */
  const othersPending = new Set<NodeJS.Immediate>();
  const run = (poll: () => void, sleep: boolean) => (): void => {
    const started = performance.now();
    const sleeps = sleep && othersPending.size === 0;
    if (sleeps) Atomics.wait(sleeper, 0, 0, POLL_SLEEP_MS);
    pacing.polls++;
    if (sleeps) pacing.sleptPolls++;
    pacing.previousPollEndedAt = pacing.lastPollEndedAt;
    pacing.lastPollStartedAt = started;
    polling = true;
    try {
      poll();
    } finally {
      polling = false;
      pacing.lastPollEndedAt = performance.now();
      const poll = pacing.polls;
      pacing.pollJobsOf = poll;
      queueMicrotask(() => {
        if (pacing.pollJobsOf === poll) pacing.pollJobsOf = -1;
      });
    }
  };
  const paced = function setImmediate(callback: unknown, ...args: unknown[]): NodeJS.Immediate {
    if (!isBindingPoll(callback, args)) {
      if (typeof callback !== 'function') return (immediate as (...all: unknown[]) => NodeJS.Immediate)(callback, ...args);
      const handle = immediate(() => {
        othersPending.delete(handle);
        (callback as (...all: unknown[]) => void)(...args);
      });
      othersPending.add(handle);
      return handle;
    }
    // A poll scheduled from outside a poll starts a wait; one scheduled by a poll continues it.
    const now = performance.now();
    if (!polling) waitStarted = now;
    return immediate(run(callback, now - waitStarted >= SPIN_MS));
  };
  const unpaced = globalThis.clearImmediate;
  const clear = function clearImmediate(handle: NodeJS.Immediate | undefined): void {
    if (handle !== undefined) othersPending.delete(handle);
    unpaced(handle);
  };
  // Node's promisified form (timers/promises reads it from util.promisify.custom) stays as it was.
  Object.assign(paced, immediate);
  globalThis.setImmediate = paced as Immediate;
  globalThis.clearImmediate = clear as typeof clearImmediate;
}

/** How the waits were polled so far (for the benchmark and the test). */
export function gpuWaitPolls(): Readonly<Pacing> {
  return pacing;
}
