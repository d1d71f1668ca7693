// A move's time in two parts, measured apart: first the wait for work already queued on the GPU
// (a readback's copy is queued behind every dispatch before it; lavapipe also compiles a shader
// the first time a dispatch runs), then the copy. Without this split a 4-byte read after 400 ms
// of queued matMuls reported "D2H 4 B 400 ms 0.000 GB/s" and the GPU lane looked idle.
import type { MoveWait } from '../device-control';
import type { WebGpuBackend } from '../transfer/gpu-types';
import type { GpuClock, GpuInterval, GpuTimeSource } from './gpu-clock';

export interface QueueWait {
  ms: number;
  /** Cells whose work was still queued when the wait began. */
  cells: number[];
}

/** Fences after the first, at most, for work submitted while the previous fence waited. */
const MAX_REFENCES = 16;

/**
 * Submits what tfjs recorded but has not submitted, then waits until the GPU has finished all of
 * it. Skipped (0 ms) when the clock saw every submit finish already: an idle fence still costs a
 * round trip through Dawn's event loop. A fence covers only work submitted before it, and the cell
 * goes on queueing work while a read waits (`const p = x.data();` then more ops, then `await p`):
 * the copy is queued behind that work too, so while anything was submitted since the last fence
 * began, fence again (bounded), and count all of it as the wait, not as the copy.
 */
export async function waitForQueuedWork(gpu: WebGpuBackend, clock: GpuClock | undefined, submits?: { count: number }): Promise<QueueWait> {
  if (gpu.commandEncoder) {
    gpu.endComputePassEncoder();
    gpu.submitQueue();
  }
  if (clock?.idle) return { ms: 0, cells: [] };
  const cells = new Set(clock?.pendingCells() ?? []);
  const started = performance.now();
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
    await gpu.queue.onSubmittedWorkDone();
    if ((submits?.count ?? 0) === before && !gpu.commandEncoder) break;
  }
  clock?.sawIdle();
  return { ms: performance.now() - started, cells: [...cells] };
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
  if (clock?.idle) return Promise.resolve({ ms: 0, cells: [] });
  const cells = clock?.pendingCells() ?? [];
  const started = performance.now();
  return gpu.queue.onSubmittedWorkDone().then(() => {
    clock?.sawIdle();
    return { ms: performance.now() - started, cells };
  });
}

/** The waits worth naming (a wait under 1 µs says nothing). */
export function moveWaits(device: string, cell: number, queued: QueueWait, stagingMs: number): MoveWait[] {
  const waits: MoveWait[] = [];
  if (queued.ms > 0.001) waits.push({ cause: 'gpu-work', ms: queued.ms, device, earlierCells: queued.cells.filter((other) => other < cell) });
  if (stagingMs > 0.001) waits.push({ cause: 'staging-setup', ms: stagingMs, device, earlierCells: [] });
  return waits;
}

/**
 * Names the earlier cells a GPU-work wait waited for from the GPU's own intervals that fell inside
 * it, where the GPU clock times passes: the cells a wait began with are those that submitted since
 * a fence last saw the GPU idle, and work that finished on its own long before (a cell's work
 * done during a 6 s sleep) stayed there until a fence. Moves are changed in place.
 */
export function nameEarlierCells(moves: readonly { at: number; waits: MoveWait[] }[],
  times: ReadonlyMap<string, { intervals: readonly GpuInterval[]; clock: { source: GpuTimeSource } }>, cellStart: number, cell: number): void {
  for (const move of moves) {
    let waitAt = cellStart + move.at;
    move.waits = move.waits.map((wait) => {
      const from = waitAt;
      waitAt += wait.ms;
      const gpu = times.get(wait.device);
      if (wait.cause !== 'gpu-work' || gpu === undefined || gpu.clock.source !== 'timestamps') return wait;
      const inside = gpu.intervals.filter((interval) => interval.cell < cell && interval.start < from + wait.ms && interval.end > from);
      return { ...wait, earlierCells: [...new Set(inside.map((interval) => interval.cell))].sort((a, b) => a - b) };
    });
  }
}
