// Frees tensors the notebook can no longer reach. JavaScript's garbage collector never frees tfjs
// memory (a tensor must be disposed), and a FinalizationRegistry entry per tensor would cost far
// more than the per-op budget. So after each cell: a tensor that some name reached at the last
// sweep and no name reaches now (`x = tf.randomNormal(…)` run again) is disposed. Tensors kept
// with tf.keep() and variables (model weights) are never touched. A tensor no name ever reached
// (an intermediate, or one only a closure holds) cannot be judged here: TensorFinalizer leaves
// those to the garbage collector.
import type { TensorLike } from './engine-internals';

const MAX_DEPTH = 8;
/** Large arrays of numbers are data, not containers of tensors: not walked element by element. */
const MAX_ELEMENTS = 100_000;

function isTensor(value: object): value is TensorLike {
  return 'dataId' in value && 'shape' in value && typeof (value as { dispose?: unknown }).dispose === 'function';
}

export function isVariable(tensor: TensorLike): boolean {
  return 'trainable' in tensor && typeof (tensor as { assign?: unknown }).assign === 'function';
}

/** Every tensor reachable from `roots` through arrays, maps, sets and object properties. */
export function reachableTensors(roots: unknown[]): Set<TensorLike> {
  const found = new Set<TensorLike>();
  const seen = new Set<object>();
  const visit = (value: unknown, depth: number): void => {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || depth > MAX_DEPTH) return;
    const object = value as object;
    if (seen.has(object)) return;
    seen.add(object);
    if (isTensor(object)) {
      found.add(object);
      return;
    }
    if (typeof value === 'function' || ArrayBuffer.isView(object)) return;
    if (Array.isArray(object)) {
      if (object.length <= MAX_ELEMENTS) for (const item of object) visit(item, depth + 1);
      return;
    }
    if (object instanceof Map) {
      for (const [key, item] of object) {
        visit(key, depth + 1);
        visit(item, depth + 1);
      }
      return;
    }
    if (object instanceof Set) {
      for (const item of object) visit(item, depth + 1);
      return;
    }
    for (const key of Object.keys(object)) {
      let item: unknown;
      try {
        item = (object as Record<string, unknown>)[key];
      } catch {
        continue; // a throwing getter
      }
      visit(item, depth + 1);
    }
  };
  for (const root of roots) visit(root, 0);
  return found;
}

export class MemorySweep {
  /** Tensors some name reached at the last sweep. */
  private bound = new Set<TensorLike>();

  /**
   * Disposes tensors that were reachable before and are not now; returns how many, their bytes,
   * and the tensors names reach now (what TensorFinalizer must leave alone).
   */
  sweep(roots: unknown[], bytesOf: (tensor: TensorLike) => number): { tensors: number; bytes: number; reachable: ReadonlySet<TensorLike> } {
    const reachable = reachableTensors(roots);
    let tensors = 0;
    let bytes = 0;
    for (const tensor of this.bound) {
      if (reachable.has(tensor) || tensor.isDisposed || tensor.kept || isVariable(tensor)) continue;
      bytes += bytesOf(tensor);
      tensor.dispose();
      tensors++;
    }
    this.bound = reachable;
    return { tensors, bytes, reachable };
  }
}
