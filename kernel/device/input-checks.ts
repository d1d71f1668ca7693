// Checks on the host data and shapes cells hand to tfjs's factories (`tf.tensor`, `tf.zeros`, …)
// before tfjs sees them. tfjs 4.22 accepts some bad input silently and makes a broken tensor:
// `tf.tensor([[1, 2], [3]])` has shape [2, 2] and three values, `tf.tensor([1, [2]])` flattens to
// [1, 2], `tf.tensor([1, 'x'])` and `tf.fill([2], 'x', 'float32')` hold NaN, `[1, null]` holds 0;
// and it words other refusals so that the place is hard to find ("Tensor must have a shape
// comprised of positive integers but got shape [2,NaN]", "shape.forEach is not a function",
// "Unknown data type float64"). Each check here throws before anything is allocated and names the
// argument and the element. Only factories that take host data or shapes are wrapped: ops on
// tensors pay nothing.

/** tfjs 4.22's DataType. */
const DTYPES: readonly string[] = ['float32', 'int32', 'bool', 'complex64', 'string'];

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return String(value);
}

function isTypedArray(value: unknown): value is ArrayLike<number> {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** Numbers, booleans and strings that read as a number ("1", "-2.5e3") are numeric data. */
export function isNumeric(value: unknown): boolean {
  if (typeof value === 'number' || typeof value === 'boolean') return true;
  return typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value));
}

export interface Rows {
  /** What the error names first: 'tf.tensor', 'asTensor'. */
  caller: string;
  /** How an element is named: `values` gives `values[1][0]`. */
  root: string;
  /** How the whole value is named. */
  whole: string;
  /** Typed arrays are rows of numbers, except in string tensors where a Uint8Array is one encoded string. */
  typedArraysAreRows: boolean;
  /**
   * Called for each element in flat (row-major) order; `name` gives its name, for an error. Names
   * are built only then: building one per element tripled the cost of tf.tensor on a big array.
   */
  leaf(value: unknown, name: () => string): void;
  /** Plain numbers need no `leaf` call (a check, not a conversion): the common case stays a tight loop. */
  numbersPass?: boolean;
}

/**
 * Walks nested lists, calling `rows.leaf` for every element, and returns their shape. Throws when
 * rows differ in length or depth, naming the first row that differs and the one it differs from.
 */
export function walkRows(value: unknown, rows: Rows): number[] {
  const shape: number[] = [];
  /** The index path of the element being visited, and of the first list seen at each depth. */
  const at: number[] = [];
  const firstAt: number[][] = [];
  let leafDepth = -1;
  let firstLeaf: number[] = [];
  const name = (path: readonly number[]): string => (path.length === 0 ? rows.whole : `${rows.root}${path.map((index) => `[${index}]`).join('')}`);
  const here = (): string => name(at);
  const numbersPass = rows.numbersPass === true;
  const isRow = (item: unknown): item is ArrayLike<unknown> => Array.isArray(item) || (rows.typedArraysAreRows && isTypedArray(item));
  const visit = (item: unknown, depth: number): void => {
    if (isRow(item)) {
      if (leafDepth >= 0 && depth >= leafDepth) {
        throw new TypeError(`${rows.caller}: ${here()} is a list where ${name(firstLeaf)} is a single value: `
          + 'every row must nest equally deep (a ragged list is not a tensor; pad it, or make one tensor per row).');
      }
      const length = item.length;
      const expected = shape[depth];
      if (expected === undefined) {
        shape[depth] = length;
        firstAt[depth] = at.slice();
      } else if (expected !== length) {
        throw new TypeError(`${rows.caller}: ${here()} has ${length} element${length === 1 ? '' : 's'} where ${name(firstAt[depth] ?? [])} has ${expected}: `
          + 'every row must have the same length (a ragged list is not a tensor; pad the rows, or make one tensor per row).');
      }
      at.push(0);
      for (let index = 0; index < length; index++) {
        const child = item[index];
        // A number where numbers were seen at this depth is already known to be fine.
        if (numbersPass && typeof child === 'number' && leafDepth === depth + 1) continue;
        at[depth] = index;
        visit(child, depth + 1);
      }
      at.pop();
      return;
    }
    if (shape.length > depth) {
      throw new TypeError(`${rows.caller}: ${here()} is ${describeValue(item)} where a list was expected (as ${name(firstAt[depth] ?? [])} is): `
        + 'every row must nest equally deep (a ragged list is not a tensor; pad it, or make one tensor per row).');
    }
    if (leafDepth < 0) {
      leafDepth = depth;
      firstLeaf = at.slice();
    }
    rows.leaf(item, here);
  };
  visit(value, 0);
  return shape;
}

/** A dtype argument: undefined (tfjs infers one) or one of tfjs's names. */
export function checkDtype(caller: string, dtype: unknown, argument: number, allowed: readonly string[] = DTYPES): void {
  if (dtype === undefined || (typeof dtype === 'string' && allowed.includes(dtype))) return;
  const choices = allowed.map((name) => `'${name}'`);
  const list = `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1] ?? ''}`;
  throw new TypeError(`${caller}: argument ${argument} (dtype) is ${describeValue(dtype)}, which is not a dtype here: use ${list}`
    + (dtype === 'float64' || dtype === 'int64' ? ` (tfjs has no 64-bit types; '${dtype === 'float64' ? 'float32' : 'int32'}' is the nearest).` : '.'));
}

/** A shape argument: a list of whole sizes ≥ 0. */
export function checkShape(caller: string, shape: unknown, argument: number, optional: boolean): void {
  if (shape === undefined && optional) return;
  if (!Array.isArray(shape) && !isTypedArray(shape)) {
    throw new TypeError(`${caller}: argument ${argument} (shape) is ${describeValue(shape)}; a shape is a list of sizes, like [2, 3]`
      + (typeof shape === 'number' ? ` (for ${shape} elements: [${shape}]).` : '.'));
  }
  const sizes = Array.from(shape as ArrayLike<unknown>);
  sizes.forEach((size, index) => {
    if (typeof size === 'number' && Number.isInteger(size) && size >= 0) return;
    const written = `[${sizes.map(describeValue).join(', ')}]`;
    const what = typeof size === 'number' ? RangeError : TypeError;
    throw new what(`${caller}: argument ${argument} (shape) ${written} has ${describeValue(size)} at shape[${index}]: `
      + 'each size must be a whole number ≥ 0' + (typeof size === 'string' ? ' (a number, not a string).' : '.'));
  });
}

/** The dtype tfjs gives data when none is passed (its inferDtype: the first element decides). */
function inferredDtype(values: unknown): string {
  let first = values;
  while (Array.isArray(first)) first = first[0];
  if (first instanceof Float32Array) return 'float32';
  if (isTypedArray(first)) return 'int32';
  if (typeof first === 'string') return 'string';
  if (typeof first === 'boolean') return 'bool';
  return 'float32';
}

/** Host values for a tensor: rows of equal length and depth; in a numeric tensor, numbers only. */
export function checkValues(caller: string, values: unknown, dtype: unknown): void {
  // A flat typed array is numbers by construction, and big: nothing to walk.
  if (isTypedArray(values)) return;
  // A WebGL texture or WebGPU buffer handed over as-is: tfjs checks those itself.
  if (typeof values === 'object' && values !== null && !Array.isArray(values)) return;
  const type = typeof dtype === 'string' ? dtype : inferredDtype(values);
  const numeric = type !== 'string';
  const firstIs = type === 'bool' ? 'a boolean' : type === 'int32' ? 'an integer typed array' : 'a number';
  const reason = typeof dtype === 'string' ? `dtype '${type}'` : `the first element is ${firstIs}, so the tensor is ${type}`;
  walkRows(values, {
    caller,
    root: 'values',
    whole: 'values',
    typedArraysAreRows: numeric,
    numbersPass: true,
    leaf(value, name) {
      if (!numeric || isNumeric(value)) return;
      throw new TypeError(`${caller}: ${name()} is ${describeValue(value)}, which is not a number (${reason}): `
        + "map such values to numbers first, or pass dtype 'string' for text.");
    },
  });
}

/** One value that fills a tensor (tf.scalar, tf.fill): a number when the dtype asked for is numeric. */
function checkFillValue(caller: string, value: unknown, argument: number, dtype: unknown): void {
  if (typeof dtype !== 'string' || dtype === 'string' || typeof value !== 'string' || isNumeric(value)) return;
  throw new TypeError(`${caller}: argument ${argument} (value) is ${describeValue(value)}, which is not a number (dtype '${dtype}'): `
    + "pass a number, or dtype 'string' for text.");
}

/** Numeric parameters of the random factories (mean, stdDev, minval, maxval). */
function checkNumbers(caller: string, args: readonly unknown[], names: Record<number, string>): void {
  for (const [at, name] of Object.entries(names)) {
    const value = args[Number(at)];
    if (value === undefined || typeof value === 'number') continue;
    throw new TypeError(`${caller}: argument ${Number(at) + 1} (${name}) is ${describeValue(value)}, which is not a number.`);
  }
}

type Check = (args: readonly unknown[]) => void;

const RANDOM_DTYPES = ['float32', 'int32'];

/** Per factory: what its arguments must be (argument numbers are 1-based, as a user counts). */
const CHECKS: Record<string, Check> = {
  tensor: (args) => {
    checkShape('tf.tensor', args[1], 2, true);
    checkDtype('tf.tensor', args[2], 3);
    checkValues('tf.tensor', args[0], args[2]);
  },
  scalar: (args) => {
    checkDtype('tf.scalar', args[1], 2);
    checkFillValue('tf.scalar', args[0], 1, args[1]);
  },
  tensor1d: (args) => {
    checkDtype('tf.tensor1d', args[1], 2);
    checkValues('tf.tensor1d', args[0], args[1]);
  },
  zeros: (args) => {
    checkShape('tf.zeros', args[0], 1, false);
    checkDtype('tf.zeros', args[1], 2);
  },
  ones: (args) => {
    checkShape('tf.ones', args[0], 1, false);
    checkDtype('tf.ones', args[1], 2);
  },
  fill: (args) => {
    checkShape('tf.fill', args[0], 1, false);
    checkDtype('tf.fill', args[2], 3);
    checkFillValue('tf.fill', args[1], 2, args[2]);
  },
  randomNormal: (args) => {
    checkShape('tf.randomNormal', args[0], 1, false);
    checkNumbers('tf.randomNormal', args, { 1: 'mean', 2: 'stdDev' });
    checkDtype('tf.randomNormal', args[3], 4, RANDOM_DTYPES);
  },
  truncatedNormal: (args) => {
    checkShape('tf.truncatedNormal', args[0], 1, false);
    checkNumbers('tf.truncatedNormal', args, { 1: 'mean', 2: 'stdDev' });
    checkDtype('tf.truncatedNormal', args[3], 4, RANDOM_DTYPES);
  },
  randomStandardNormal: (args) => {
    checkShape('tf.randomStandardNormal', args[0], 1, false);
    checkDtype('tf.randomStandardNormal', args[1], 2, RANDOM_DTYPES);
  },
  randomUniform: (args) => {
    checkShape('tf.randomUniform', args[0], 1, false);
    checkNumbers('tf.randomUniform', args, { 1: 'minval', 2: 'maxval' });
    checkDtype('tf.randomUniform', args[3], 4);
  },
};

// tensor2d…tensor6d take (values, shape?, dtype?) like tf.tensor.
for (const rank of [2, 3, 4, 5, 6]) {
  const caller = `tf.tensor${rank}d`;
  CHECKS[`tensor${rank}d`] = (args) => {
    checkShape(caller, args[1], 2, true);
    checkDtype(caller, args[2], 3);
    checkValues(caller, args[0], args[2]);
  };
}

/**
 * Wraps the factories on `tf` (the namespace cells see, not tfjs's module: tfjs-layers' own
 * calls stay as they are) so that bad input is refused before tfjs runs.
 */
export function installInputChecks(tf: object): void {
  const namespace = tf as Record<string, unknown>;
  for (const [name, check] of Object.entries(CHECKS)) {
    const original = namespace[name];
    if (typeof original !== 'function') continue;
    const checked = function checked(this: unknown, ...args: unknown[]): unknown {
      check(args);
      return (original as (...callArgs: unknown[]) => unknown).apply(this, args);
    };
    Object.defineProperty(checked, 'name', { value: name });
    namespace[name] = checked;
  }
}
