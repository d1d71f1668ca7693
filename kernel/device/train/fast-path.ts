// model.trainStep's kernels of its own (wasm's transposed products, a software GPU's direct
// convolutions) stand in for tfjs's only while a step runs: trainOnBatch and fit keep tfjs's
// kernels, and so its numbers, bit for bit.
// An interrupt stops a synchronous loop by terminating the script, and no `finally` runs: a step
// stopped midway would leave the fast path on (every later trainOnBatch, fit and predict on the
// direct kernels) and the model on trainStep's loss. A cell never starts inside a step (a step is
// synchronous), so the cell that follows closes what is open (closeInterruptedFastPath).

import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { TfCoreModule } from '../tfjs';

let fastPathDepth = 0;
/** What the open steps put back when they end: the model's own loss functions. */
const restores = new Set<() => void>();

/** Runs `step` with the fast path's kernels; `restore` (undoing what the caller changed for it) runs after it, or at the next cell if an interrupt stops it. */
export function inFastPath<T>(step: () => T, restore?: () => void): T {
  if (restore) restores.add(restore);
  fastPathDepth++;
  try {
    return step();
  } finally {
    fastPathDepth--;
    if (restore) {
      restores.delete(restore);
      restore();
    }
  }
}

/** Whether a kernel runs inside model.trainStep. */
export function onFastPath(): boolean {
  return fastPathDepth > 0;
}

/** Closes what an interrupted step left open; says whether there was anything. */
export function closeInterruptedFastPath(): boolean {
  const open = fastPathDepth > 0 || restores.size > 0;
  fastPathDepth = 0;
  for (const restore of [...restores].reverse()) restore();
  restores.clear();
  return open;
}

/** How many times a kernel of the kernel's own answered for tfjs's (%profile names the ops it answered). */
let directRuns = 0;

export function directKernelRuns(): number {
  return directRuns;
}

/** Wraps one of `backendName`'s kernels: `direct` answers inside model.trainStep, or returns null for tfjs's. */
export function wrapForFastPath(core: TfCoreModule, kernelName: string, backendName: string, direct: (args: Parameters<KernelFunc>[0]) => TensorInfo | null): void {
  const original = core.getKernel(kernelName, backendName);
  if (!original) return;
  const tfjs = original.kernelFunc;
  const wrapped: KernelFunc = (args) => {
    const answered = onFastPath() ? direct(args) : null;
    if (answered === null) return tfjs(args);
    directRuns++;
    return answered;
  };
  core.unregisterKernel(kernelName, backendName);
  core.registerKernel({ ...original, kernelFunc: wrapped } as KernelConfig);
}
