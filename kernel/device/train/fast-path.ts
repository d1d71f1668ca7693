// model.trainStep's kernels of its own (wasm's transposed products, a software GPU's direct
// convolutions) stand in for tfjs's only while a step runs: trainOnBatch and fit keep tfjs's
// kernels, and so its numbers, bit for bit.

let fastPathDepth = 0;

/** Runs `step` with the fast path's kernels. */
export function inFastPath<T>(step: () => T): T {
  fastPathDepth++;
  try {
    return step();
  } finally {
    fastPathDepth--;
  }
}

/** Whether a kernel runs inside model.trainStep. */
export function onFastPath(): boolean {
  return fastPathDepth > 0;
}
