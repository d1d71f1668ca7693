// The notebook line that called into a library (model.fit, trainOnBatch, predict, evaluate),
// carried into the promise chains that library starts. tfjs-layers reads back losses and metrics
// in .then() callbacks, where the stack no longer holds the cell's frame; AsyncLocalStorage keeps
// the caller's line across those awaits, so a move made there still names its line.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CellLocation } from '../interpreter/cell-hooks';

const callSite = new AsyncLocalStorage<CellLocation>();

/** Runs `call` (and whatever it chains) as if from `where`; an outer call site wins. */
export function withCallSite<T>(where: CellLocation | null, call: () => T): T {
  if (where === null || callSite.getStore() !== undefined) return call();
  return callSite.run(where, call);
}

/** The library call this code runs under, if any. */
export function currentCallSite(): CellLocation | null {
  return callSite.getStore() ?? null;
}
