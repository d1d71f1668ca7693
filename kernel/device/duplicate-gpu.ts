// TSGPU_GPU_DUPLICATE=N opens the first GPU N times, as N devices gpu:0 … gpu:N-1 (any other GPUs
// follow them). Each is a Dawn device of its own (its own instance, queue and memory), so code
// written for a machine with several GPUs (moves between them, an op that mixes them, a model on
// gpu:1) runs on a machine with one, lavapipe included. The copies say what they are wherever
// devices are listed.
import type { GpuCandidate } from './webgpu';

export const DUPLICATE_SETTING = 'TSGPU_GPU_DUPLICATE';

/** How many devices the setting asks for; 1 when unset. A bad value is an error that says what to write. */
export function duplicateCount(value = process.env[DUPLICATE_SETTING]): number {
  if (value === undefined || value.trim() === '') return 1;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 16) {
    throw new Error(`${DUPLICATE_SETTING}=${value}: give a whole number of devices from 1 to 16 (e.g. ${DUPLICATE_SETTING}=2)`);
  }
  return count;
}

/**
 * The GPUs found, the first one opened `count` times: its copies follow it (gpu:1 … gpu:count-1),
 * and the other GPUs come after them, in their order.
 */
export function withDuplicates(gpus: GpuCandidate[], count: number): GpuCandidate[] {
  const [first, ...others] = gpus;
  if (first === undefined || count <= 1) return gpus;
  const copies = Array.from({ length: count - 1 }, (): GpuCandidate => ({ ...first, duplicateOf: 0 }));
  return [first, ...copies, ...others];
}
