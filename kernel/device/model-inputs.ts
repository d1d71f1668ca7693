// A model's fit, evaluate, predict and trainOnBatch take tensors. Plain arrays and strings (labels
// like ['1','0']) reach deep into tfjs-layers and fail there with messages that name none of the
// user's arguments ("Expected to see 1 Tensor(s)…", "Cannot read properties of undefined (reading
// 'length')"). They are caught at the call instead, naming the argument and what to write.
import { inspect } from 'node:util';

/** The data arguments of each method, by position. */
const DATA_ARGUMENTS: Record<string, readonly string[]> = {
  fit: ['x', 'y'],
  evaluate: ['x', 'y'],
  trainOnBatch: ['x', 'y'],
  predict: ['x'],
  predictOnBatch: ['x'],
};

function isTensor(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'dataId' in value && 'shape' in value;
}

/**
 * An argument that is data rather than tensors: a string, a typed array, or an array whose items
 * are not all tensors (an array of tensors is how a model with several inputs takes them).
 */
function isPlainData(value: unknown): boolean {
  if (typeof value === 'string' || ArrayBuffer.isView(value)) return true;
  return Array.isArray(value) && !value.every(isTensor);
}

/** `an array [ '1', '0', '1', '0' ]`, cut short for a big one. */
function shown(value: unknown): string {
  const what = typeof value === 'string' ? 'a string' : Array.isArray(value) ? 'an array' : 'a typed array';
  const text = inspect(value, { depth: 1, maxArrayLength: 6, breakLength: Infinity, maxStringLength: 40 });
  return `${what} ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
}

/** A TypeError naming the first argument of `method` that is not a tensor; null when all are. */
export function plainDataError(method: string, args: readonly unknown[]): TypeError | null {
  const names = DATA_ARGUMENTS[method] ?? [];
  const promised = names.findIndex((_name, position) => args[position] instanceof Promise);
  if (promised !== -1) {
    // `const xin = withDevice('cpu', () => …)` without await, or `x.to('gpu:0')` passed on as it is.
    return new TypeError(`model.${method}: ${names[promised]} is a Promise, not a tensor: the call that made it (withDevice, x.to(), …) `
      + `is asynchronous. Add \`await\` where it is made: \`const ${names[promised]} = await withDevice(…)\`.`);
  }
  const index = names.findIndex((_name, position) => isPlainData(args[position]));
  const stringTensor = names.findIndex((_name, position) => isTensor(args[position]) && (args[position] as { dtype?: unknown }).dtype === 'string');
  if (index === -1 && stringTensor !== -1) {
    // tfjs: "Argument 'x' passed to 'gather' must be numeric tensor, but got string tensor", from inside fit.
    const name = names[stringTensor]!;
    return new TypeError(`model.${method}: ${name} is a string tensor; a model needs numbers. `
      + `Make the labels numeric: asTensor(labels, 'int32') turns ['1','0'] into [1, 0].`);
  }
  if (index === -1) return null;
  const name = names[index]!;
  const value = args[index];
  const labels = Array.isArray(value) && value.some((item) => typeof item === 'string');
  return new TypeError(`model.${method}: ${name} is ${shown(value)}, not a tensor. Make it one first: `
    + (labels ? `asTensor(${name}, 'int32') (string labels like ['1','0'] become numbers)` : `asTensor(${name}), or tf.tensor2d(rows) for rows of numbers`)
    + `, e.g. \`model.${method}(${names.map((each) => (each === name ? `asTensor(${each}${labels ? ", 'int32'" : ''})` : each)).join(', ')}${method === 'fit' ? ', options' : ''})\`.`);
}
