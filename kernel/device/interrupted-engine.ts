// An interrupt stops a synchronous loop by terminating the script, and no `finally` runs: a loop
// stopped inside tf.tidy (or inside a gradient, an optimizer's minimize, a kernel) leaves tfjs's
// engine mid-scope. Its scope stack then holds every tensor made afterwards, so the garbage
// collector never frees one again, and its gradient tape records every later op. A cell never
// starts inside a scope (tidy is synchronous), so whatever is open when one starts was left by an
// interrupt. The tensors those scopes listed are not disposed here (an interrupted tidy has no
// result to keep): they are the garbage collector's, as every other tensor is.
import type { EngineLike } from './engine-internals';

/** The parts of tfjs-core 4.22's EngineState (engine.js) a stopped tidy, gradient or kernel leaves set. */
interface ScopedState {
  scopeStack: unknown[];
  activeScope: unknown;
  activeTape: unknown;
  gradientDepth: number;
  kernelDepth: number;
  numDataMovesStack: number[];
}

/** Closes what an interrupt left open; says whether there was anything. */
export function closeInterruptedScopes(engine: EngineLike): boolean {
  const state = engine.state as unknown as ScopedState;
  if (state.scopeStack.length === 0 && state.activeTape == null && state.kernelDepth === 0 && state.gradientDepth === 0) return false;
  state.scopeStack = [];
  state.activeScope = null;
  state.activeTape = null;
  state.gradientDepth = 0;
  state.kernelDepth = 0;
  state.numDataMovesStack = [];
  return true;
}
