// A move's time in two parts, measured apart: first the wait for work already queued on the GPU
// (a readback's copy is queued behind every dispatch before it; lavapipe also compiles a shader
// the first time a dispatch runs), then the copy. Without this split a 4-byte read after 400 ms
// of queued matMuls reported "D2H 4 B 400 ms 0.000 GB/s" and the GPU lane looked idle.
// A wait is measured on the host, from a fence's start to when the host saw it end, with what
// move-waits.ts needs to tell what it was for once the GPU's times are in.
import type { WebGpuBackend } from '../transfer/gpu-types';
import { copiesInFlight, noteQueueDone } from '../transfer/move-notes';
import type { GpuClock } from './gpu-clock';
import { type Away, AWAY_MIN_MS, awayBeforeNow } from './host-away';

/** One fence a wait went through, on performance.now()'s clock. */
export interface Fence {
  start: number;
  /** When the host saw it end. */
  end: number;
  /** When the thread was elsewhere before it saw the end (the fence had not ended when it went). */
  away: Away;
  /** tfjs's submits the fence covers: the GPU clock's count when it began. */
  submitted: number;
}

export interface QueueWait {
  ms: number;
  /** Cells whose work was still queued when the wait began. */
  cells: number[];
  fences: Fence[];
  /** Of `ms`, the time the thread ran other code at awaits that had nothing to wait for (see heldAround). */
  heldMs?: number;
}

/**
 * Whether the GPU's queue is known to have run everything submitted: tfjs's submits (the clock's
 * count) and moves' chunk copies, which the clock does not see (a 4-byte read behind an upload's
 * chunks skipped its fence, and its 463 ms wait for them was called its copy).
 */
export function queueIdle(clock: GpuClock | undefined): boolean {
  return (clock?.idle ?? false) && !copiesInFlight();
}

/** Fences after the first, at most, for work submitted while the previous fence waited. */
const MAX_REFENCES = 16;

/** A fence that the host has just seen end. */
function seenEnded(start: number, submitted: number): Fence {
  return { start, end: performance.now(), away: awayBeforeNow(start), submitted };
}

/**
 * Submits what tfjs recorded but has not submitted, then waits until the GPU has finished all of
 * it. Skipped (0 ms) when the clock saw every submit finish already: an idle fence still costs a
 * round trip through Dawn's event loop. A fence covers only work submitted before it, and the cell
 * goes on queueing work while a read waits (`const p = x.data();` then more ops, then `await p`):
 * the copy is queued behind that work too, so while anything was submitted since the last fence
 * began, fence again (bounded), and count all of it as the wait, not as the copy.
 */
export async function waitForQueuedWork(gpu: WebGpuBackend, clock: GpuClock | undefined, submits?: { count: number }): Promise<QueueWait> {
  // Submitting tfjs's recorded work is part of the wait for it (else heldAround took it for the thread elsewhere).
  const started = performance.now();
  if (gpu.commandEncoder) {
    gpu.endComputePassEncoder();
    gpu.submitQueue();
  }
  if (queueIdle(clock)) return { ms: 0, cells: [], fences: [] };
  const cells = new Set(clock?.pendingCells() ?? []);
  const fences: Fence[] = [];
  for (let fence = 0; fence <= MAX_REFENCES; fence++) {
    if (fence > 0) {
      // Recorded but not submitted: the copy's own submit would carry it, so it is waited for here.
      if (gpu.commandEncoder) {
        gpu.endComputePassEncoder();
        gpu.submitQueue();
      }
      for (const cell of clock?.pendingCells() ?? []) cells.add(cell);
    }
    const before = submits?.count ?? 0;
    const start = performance.now();
    const submitted = clock?.submitted ?? 0;
    await gpu.queue.onSubmittedWorkDone();
    fences.push(seenEnded(start, submitted));
    if ((submits?.count ?? 0) === before && !gpu.commandEncoder) break;
  }
  clock?.sawIdle();
  noteQueueDone(fences[fences.length - 1]!.start);
  return { ms: performance.now() - started, cells: [...cells], fences };
}

/**
 * Submits what tfjs recorded but has not submitted, and starts a fence behind it without waiting
 * for it: a read whose copy is submitted after this call runs right behind that work, so the
 * read costs one round trip to the GPU, not two (a 4-byte loss read took 1.2 ms longer on
 * lavapipe when its copy waited for the fence). The wait ends when the fence says the work before
 * the copy finished; work queued later runs after the copy, and is not waited for.
 */
export function queuedWorkDone(gpu: WebGpuBackend, clock: GpuClock | undefined): Promise<QueueWait> {
  if (gpu.commandEncoder) {
    gpu.endComputePassEncoder();
    gpu.submitQueue();
  }
  if (queueIdle(clock)) return Promise.resolve({ ms: 0, cells: [], fences: [] });
  const cells = clock?.pendingCells() ?? [];
  const started = performance.now();
  const submitted = clock?.submitted ?? 0;
  return gpu.queue.onSubmittedWorkDone().then(() => {
    clock?.sawIdle();
    noteQueueDone(started);
    const fence = seenEnded(started, submitted);
    return { ms: fence.end - started, cells, fences: [fence] };
  });
}

/**
 * The wait from `entered` until now. An await that has nothing to wait for (an idle GPU, no fence)
 * ends at once, unless the thread runs other code first: `const p = x.to('gpu:0'); await null;
 * await null;` then a loop parks the move at such an await for the whole loop. Time past the
 * fences' own is that: host busy.
 */
export function heldAround(queued: QueueWait, entered: number): QueueWait {
  const held = performance.now() - entered - queued.ms;
  return held >= AWAY_MIN_MS ? { ...queued, ms: queued.ms + held, heldMs: held } : queued;
}
