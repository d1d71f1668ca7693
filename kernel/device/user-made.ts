// Which tensors the user made from host values. Under %device gpu:0, tf.tensor2d(rows) and
// tf.scalar(lr) are made on the GPU and uploaded at their first op; so are the constants tfjs makes
// inside its own ops and optimizers (the 2 of x.mul(2), Adam's step scalars). Only the first are
// code the user wrote and can change, so only they get the report's hints. The creation functions
// cells call through `tf` and asTensor are marked; tfjs calls its own copies, which are not.
import type { MoveOrigin } from './device-control';

/** `tf.` functions that make a tensor from host values (or compute it on the host). */
const CREATORS = [
  'tensor', 'tensor1d', 'tensor2d', 'tensor3d', 'tensor4d', 'tensor5d', 'tensor6d', 'scalar', 'buffer',
  'ones', 'zeros', 'fill', 'eye', 'linspace', 'range', 'oneHot', 'randomNormal', 'randomUniform', 'randomGamma',
  'randomStandardNormal', 'truncatedNormal', 'multinomial',
] as const;

/** How deep in the user's creation calls the running code is (a creator may call another). */
let depth = 0;

export function madeByUser(): boolean {
  return depth > 0;
}

/** Runs `make` as the user's own creation of a tensor. */
export function asUserCreation<T>(make: () => T): T {
  depth++;
  try {
    return make();
  } finally {
    depth--;
  }
}

/** `make` (asTensor), marked as the user's creation. */
export function userCreation<A extends unknown[], R>(make: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => asUserCreation(() => make(...args));
}

/** Marks the namespace cells see as `tf`: its creation functions make the user's tensors. */
export function markUserCreations(namespace: object): void {
  const functions = namespace as Record<string, unknown>;
  for (const name of CREATORS) {
    const create = functions[name];
    if (typeof create !== 'function') continue;
    const marked = function userCreation(this: unknown, ...args: unknown[]): unknown {
      return asUserCreation(() => (create as (...values: unknown[]) => unknown).apply(this, args));
    };
    // Errors and inspection still name tfjs's function.
    Object.defineProperty(marked, 'name', { value: name });
    functions[name] = marked;
  }
}

/**
 * Made inside a library call or kernel helper by that code itself (tfjs-layers' scalars, Adam's
 * step constants): such a tensor takes the call's site, worked out once for many. A tensor the user
 * made there, through `tf` in a callback of theirs (fit's onBatchEnd), is not: it is located and
 * credited like any the user made.
 */
export function madeByCall(call: MoveOrigin): boolean {
  return call.by !== 'user' && !madeByUser();
}

/**
 * Who made a tensor made now, under `call` (the tracked call running, if any): the user through
 * `tf` (inside a library call too), else the call, else tfjs (inside an op, `opScope` names it).
 */
export function creator(call: MoveOrigin | null, opScope: string | null, invocation: () => number): MoveOrigin {
  if (madeByUser()) return call?.by === 'user' ? call : { by: 'user', call: null, invocation: invocation() };
  return call ?? { by: 'library', call: opScope, invocation: invocation() };
}
