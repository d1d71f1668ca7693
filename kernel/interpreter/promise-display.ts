// How a Promise prints (console.log, a cell's value). Node shows the async-hook fields it keeps on
// every promise made under an AsyncLocalStorage, the cell's own context among them: kernel
// internals that tell the user nothing. And a promise of a tensor read or move printed instead of
// its value is a forgotten `await`: it says so where it is printed.
import { inspect } from 'node:util';

/** Set (not enumerable) on the promises of tensor reads and moves to the method's name: `item`, `to`… */
export const TENSOR_PROMISE = Symbol.for('tsgpu.tensorPromise');

/** Node's own per-promise fields (async_hooks): `Symbol(async_id_symbol)`, `Symbol(kResourceStore)`. */
const NODE_ASYNC_FIELDS = /^Symbol\((async_id_symbol|trigger_async_id_symbol|kResourceStore)\)$/;

/** Marks a tensor method's promise, so that printing it says which call was not awaited. */
export function markTensorPromise<T>(promise: Promise<T>, operation: string): Promise<T> {
  Object.defineProperty(promise, TENSOR_PROMISE, { value: operation });
  return promise;
}

/** `x.item()` for a tensor's method, `model.to()` for a model's. */
export function promisedCall(operation: string): string {
  return operation.includes('.') ? `${operation}()` : `x.${operation}()`;
}

/** The note printed after a tensor promise: what to write instead. */
export function notAwaitedNote(operation: string): string {
  const what = /^(to|cuda|cpu)$/.test(operation) ? 'tensor' : operation === 'model.to' ? 'model' : 'value';
  return `(not awaited: ${promisedCall(operation)} is asynchronous; write \`await ${promisedCall(operation)}\` to get its ${what})`;
}

/**
 * Installs the Promise printing of this realm (cells run in the kernel's realm). `printed` hears
 * of each tensor promise printed, with the method's name.
 */
export function installPromiseDisplay(printed: (operation: string) => void): void {
  const formatting = new WeakSet<object>();
  Object.defineProperty(Promise.prototype, inspect.custom, {
    configurable: true,
    writable: true,
    value: function inspectPromise(this: Promise<unknown>, _depth: number, options: object, format: typeof inspect): unknown {
      // Returning the promise itself lets Node format it as usual, now without the hidden fields.
      if (formatting.has(this)) return this;
      for (const symbol of Object.getOwnPropertySymbols(this)) {
        if (NODE_ASYNC_FIELDS.test(String(symbol))) Object.defineProperty(this, symbol, { enumerable: false });
      }
      const operation = (this as { [TENSOR_PROMISE]?: unknown })[TENSOR_PROMISE];
      if (typeof operation !== 'string') return this;
      printed(operation);
      formatting.add(this);
      try {
        return `${format(this, options)} ${notAwaitedNote(operation)}`;
      } finally {
        formatting.delete(this);
      }
    },
  });
}
