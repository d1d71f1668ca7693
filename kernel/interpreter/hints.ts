// Hints for the classic mistakes of device code, most of them PyTorch habits: calling a tensor's
// device method on a plain array or string, `model.cuda()`, `x.numpy()`, a read used without
// `await`, a torch.device object. Whether the type checker or the runtime catches it, the message
// ends with what to do instead.
// One more is TypeScript's: `declare module 'x'` in a cell, which only augments a module that exists.
const DEVICE_METHODS = new Set(['to', 'cuda', 'cpu']);
/** TS2664: "Invalid module name in augmentation, module 'x' cannot be found." */
const INVALID_AUGMENTATION = 2664;
/** Array, tuple, typed-array and string types as the checker prints them. */
const NOT_A_TENSOR = /\[\]$|^\[.*\]$|^string$|^(readonly )?[A-Z]\w*Array(<.*>)?$|^"/;
/** tfjs-layers' model classes as the checker prints them. */
const MODEL_TYPE = /^(Sequential|LayersModel|Functional|tf\.Sequential|tf\.LayersModel)$/;
/** tfjs-core's optimizers as the checker prints them (`SGDOptimizer`, `AdamOptimizer`, `tf.Optimizer`). */
const OPTIMIZER_TYPE = /^(tf\.)?\w*Optimizer$/;
/** tfjs-core's tensor classes as the checker prints them (`Tensor<Rank>`, `Tensor2D`, `Variable<Rank.R1>`…). */
const TENSOR_TYPE = /^(tf\.)?(Tensor(\d?D)?|Scalar|Variable)(<.*>)?$/;

export const ARRAY_IS_NOT_A_TENSOR_HINT = "Hint: arrays and strings are not tensors. Make one first with asTensor(x) "
  + "(string labels like ['1','0']: asTensor(labels, 'int32')), then move it: await asTensor(x).to('gpu:0').";

/** What a PyTorch method is called here, on a model and on a tensor. */
const MODEL_HINTS: Record<string, string> = {
  cuda: "Hint: a model moves with `await model.to('gpu:0')` (PyTorch's model.cuda(); 'cuda' and 'cuda:0' are accepted names too).",
  cpu: "Hint: a model moves with `await model.to('cpu')` (PyTorch's model.cpu()).",
  eval: 'Hint: tfjs models have no train/eval mode to switch: model.predict() and model.evaluate() run with dropout off, model.fit() with it on.',
  train: 'Hint: tfjs models have no train/eval mode to switch: model.fit() trains (dropout on); model.predict() and model.evaluate() run with dropout off.',
};
const TENSOR_HINTS: Record<string, string> = {
  numpy: 'Hint: read a tensor\'s values with `await x.array()` (nested arrays, like .numpy().tolist()) or `await x.data()` (a flat typed array): reads are asynchronous.',
  tolist: 'Hint: read a tensor\'s values with `await x.array()` (nested arrays): reads are asynchronous.',
  backward: 'Hint: tfjs computes gradients inside a function, not from a loss tensor: '
    + '`opt.minimize(() => lossOf(model, xs, ys))` takes one step, `tf.variableGrads(() => loss)` gives the gradients.',
  detach: 'Hint: tfjs tensors do not record gradients (only functions passed to tf.grad, tf.variableGrads or opt.minimize are traced): there is nothing to detach, use x itself.',
  size: 'Hint: in tfjs `x.size` is a number (the element count), not a method; the shape is `x.shape`.',
};
const OPTIMIZER_HINTS: Record<string, string> = {
  zero_grad: 'Hint: tfjs optimizers keep no gradients between steps, so there is nothing to zero: '
    + '`opt.minimize(() => lossOf(model, xs, ys))` computes fresh gradients and applies them in one call.',
  step: 'Hint: a tfjs optimizer steps with `opt.minimize(() => loss)` (gradients and update in one call), or `opt.applyGradients(grads)` with grads from tf.variableGrads.',
};

/** A tensor's and a model's members that are values, not methods: `x.device`, not `x.device()`. */
const PROPERTIES = new Set(['device', 'shape', 'dtype', 'size', 'rank', 'id', 'strides', 'isDisposed', 'name', 'trainable', 'layers', 'weights', 'optimizer']);

/**
 * A forgotten await: a move (`x.to(...)`, `x.cpu()`) or a read gives a promise, not a tensor.
 * `call`: the call whose promise the member was asked of, where the cell shows it (`withDevice`).
 */
export function forgottenAwaitHint(member: string | null, call: string | null = null): string {
  const used = member === null ? '' : `.${member}${PROPERTIES.has(member) ? '' : '(…)'}`;
  const example = member === null ? '' : `\`(await ${call === null ? "x.to('gpu:0')" : `${call}(…)`})${used}\`, or `;
  const first = call === null ? "`x = await x.to('gpu:0')` first" : `\`const x = await ${call}(…)\` first`;
  return `Hint: this is a Promise (moves and reads of tensors are asynchronous): add \`await\`, e.g. ${example}${first}.`;
}

/** `withDevice('cpu', () => …).device` in the cell: the call whose result's member was asked for. */
function callBefore(member: string | null, where: ErrorPlace): string | null {
  if (member === null) return null;
  const escaped = member.replace(/[$]/g, '\\$');
  const found = new RegExp(`([A-Za-z_$][\\w$.]*)\\((?:[^()]|\\((?:[^()]|\\([^()]*\\))*\\))*\\)\\s*\\.${escaped}\\b`).exec(where.cellCode);
  return found?.[1] ?? null;
}

/** A read (`x.item()`, `x.data()`, `x.array()`) used as its value. */
export const FORGOTTEN_READ_AWAIT_HINT = 'Hint: this is a Promise: reads of tensors (x.item(), x.data(), x.array()) are asynchronous. '
  + 'Add `await` where you read: `const v = await x.item()`.';

/** At run time the promise's value is not known: a move's or a read's. */
export const PROMISE_AT_RUN_TIME_HINT = 'Hint: this is a Promise: moves and reads of tensors (x.to(), x.item(), x.data(), x.array()) are asynchronous. '
  + "Add `await`: `const v = await x.item()`, `x = await x.to('gpu:0')`.";

/** A torch.device object or `torch.device('cuda')`: devices are named by strings here. */
export const DEVICE_IS_A_STRING_HINT = "Hint: a device is a string here, e.g. `const device = 'gpu:0'`, then `await x.to(device)`; "
  + "'cuda' and 'cuda:N' are accepted names for gpu:0 and gpu:N, and device('cuda') checks a name (it gives 'gpu:0').";

/** `import torch`, `import torch.nn as nn`, `from torch import nn`: Python's import, which TypeScript reads as broken syntax. */
const PYTHON_IMPORT = /^\s*(?:import\s+[A-Za-z_]\w*(?:\.\w+)*(?:\s+as\s+\w+)?(?:\s*,\s*[A-Za-z_]\w*(?:\.\w+)*(?:\s+as\s+\w+)?)*|from\s+\.*[A-Za-z_][\w.]*\s+import\s+.+?)\s*;?\s*$/;

/** What replaces a Python import here: tf is loaded, devices are names, and TypeScript's own import for a package. */
export function pythonImportHint(sourceLine: string): string {
  const torch = /\btorch\b/.test(sourceLine);
  return `Hint: \`${sourceLine.trim()}\` is Python's import. `
    + (torch ? "Here TensorFlow.js stands in for torch and is loaded already as `tf`: tensors are `tf.tensor(…)`, and `await x.to('gpu:0')` moves one (`%device gpu:0` makes new ones there). "
      : 'Here TensorFlow.js is loaded already as `tf`. ')
    + "A package of your own comes in with TypeScript's import: `import * as name from 'package'`.";
}

/** The cell a type error is in, and the name it is about (the receiver of a missing member, a flagged argument); '' when not a name. */
export interface ErrorPlace {
  cellCode: string;
  subject: string;
}

const NOWHERE: ErrorPlace = { cellCode: '', subject: '' };

/**
 * `const xin = withDevice('cpu', () => …)` declared in the cell and used on `sourceLine`: the name
 * and the call that made the promise, so the hint can say where the `await` goes.
 */
function promiseDeclaration(where: ErrorPlace): { name: string; call: string } | null {
  if (where.subject === '') return null;
  for (const declared of where.cellCode.matchAll(/\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?!await\b)([A-Za-z_$][\w$.]*)\s*\(/g)) {
    const [, name = '', call = ''] = declared;
    if (name === where.subject) return { name, call };
  }
  return null;
}

function promiseHint(member: string | null, promised: string, where: ErrorPlace = NOWHERE, otherwise?: string): string {
  const declaration = promiseDeclaration(where);
  if (declaration) {
    return `Hint: \`${declaration.name}\` is a Promise: \`${declaration.call}(…)\` is asynchronous. `
      + `Write \`const ${declaration.name} = await ${declaration.call}(…)\` where it is made.`;
  }
  if (otherwise !== undefined) return otherwise;
  return /^Tensor\b|^this\b|Model\b|Sequential\b/.test(promised) ? forgottenAwaitHint(member, callBefore(member, where)) : FORGOTTEN_READ_AWAIT_HINT;
}

/** What the method's receiver is, for the hint that fits; `unknown` when it cannot be told. */
export type ReceiverKind = 'array' | 'model' | 'tensor' | 'optimizer' | 'promise' | 'unknown';

function memberHint(member: string, receiver: ReceiverKind): string | null {
  if (receiver === 'model') return MODEL_HINTS[member] ?? null;
  if (receiver === 'tensor') return TENSOR_HINTS[member] ?? null;
  if (receiver === 'optimizer') return OPTIMIZER_HINTS[member] ?? null;
  if (receiver === 'array') return DEVICE_METHODS.has(member) ? ARRAY_IS_NOT_A_TENSOR_HINT : null;
  if (receiver === 'promise') return PROMISE_AT_RUN_TIME_HINT;
  return null;
}

function receiverOfType(type: string): ReceiverKind {
  if (MODEL_TYPE.test(type)) return 'model';
  if (TENSOR_TYPE.test(type)) return 'tensor';
  if (OPTIMIZER_TYPE.test(type)) return 'optimizer';
  if (NOT_A_TENSOR.test(type)) return 'array';
  return 'unknown';
}

/** A union of a read's typed arrays the checker could not call ("Each member of the union type …"). */
const TYPED_ARRAY_UNION = /Each member of the union type[\s\S]*(Float32|Int32|Uint8)Array/;
/**
 * What to write instead of `<read>.reduce(…)` on a read's union of typed arrays: the read with its
 * dtype named (`x.data<'float32'>()`, `x.dataSync<'int32'>()`), or its values in a plain array. Not
 * `x.array()`: that nests by the tensor's rank, and its type is a union of its own.
 */
function readUnionHint(sourceLine: string): string {
  const method = /\.(reduceRight|reduce)\s*\(/.exec(sourceLine)?.[1] ?? 'reduce';
  const read = /([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.(dataSync|data)\s*\(/.exec(sourceLine);
  const [tensor, how] = read === null ? ['x', 'data'] : [read[1]!, read[2]!];
  const named = how === 'dataSync' ? `${tensor}.dataSync<'float32'>()` : `(await ${tensor}.data<'float32'>())`;
  const plain = how === 'dataSync' ? `Array.from(${tensor}.dataSync())` : `Array.from(await ${tensor}.data())`;
  return `Hint: a read's values are a Float32Array, Int32Array or Uint8Array, by the tensor's dtype, and TypeScript cannot call ${method} on that union: `
    + `name the dtype where it is read, \`${named}.${method}(…)\` ('int32' or 'bool' for those tensors), or make them a plain array, \`${plain}.${method}(…)\`.`;
}

/** Codes where the checker names a promise's type while a value was meant (`v + 1`, `w[0]`, `for (… of w)`). */
const PROMISE_AS_VALUE = new Set([2322, 2345, 2365, 2488, 7053]);

/** Python's print. */
const PRINT_HINT = 'Hint: `print(…)` is Python\'s: here `console.log(…)` prints, and a cell\'s last expression is shown as its result.';

/** `name = …` starting the line: Python's first assignment, which declares nothing here. */
function firstAssignment(name: string, line: string): boolean {
  return new RegExp(String.raw`^\s*${name.replace(/\$/g, '\\$')}\s*=(?!=)`).test(line);
}

function undeclaredHint(name: string): string {
  return `Hint: \`${name}\` is not declared yet: declare it where it is first given a value, \`let ${name} = …\` (or \`const\`). `
    + `It lives on in later cells, which can then assign \`${name} = …\` again.`;
}

/** Code, then `%name` on the same line: a magic the parser took for code. */
const MAGIC_AFTER_CODE = /[;{}]\s*%%?[A-Za-z_]\w*/;

/**
 * A hint for a type error, from its code, message and the cell line it is on. TS2339 "Property
 * 'cuda' does not exist on type 'number[]'" (TS2551 when it suggests a name) is the usual one.
 */
export function typeErrorHint(code: number, message: string, sourceLine = '', where: ErrorPlace = NOWHERE): string | null {
  if (code === 2339 || code === 2551) {
    const match = /Property '(\w+)' does not exist on type '(.+?)'\./.exec(message);
    if (!match) return null;
    const [, member = '', type = ''] = match;
    // `Promise<Tensor<Rank>>`, `Promise<number>`…: any member of a promise of ours.
    const promised = /^Promise<(.+)>$/.exec(type)?.[1];
    if (promised !== undefined) return promiseHint(member, promised, where);
    return memberHint(member, receiverOfType(type));
  }
  if (code === 2304 && /Cannot find name 'torch'/.test(message)) return DEVICE_IS_A_STRING_HINT;
  if (code === 2304 && /Cannot find name 'print'/.test(message)) return PRINT_HINT;
  // `total = 5` as Python writes a first assignment.
  if (code === 2304) {
    const name = /Cannot find name '([\w$]+)'/.exec(message)?.[1];
    if (name !== undefined && firstAssignment(name, sourceLine)) return undeclaredHint(name);
  }
  // `const keep = 42; %device gpu:0`: a magic after code on its line is read as code.
  if (code >= 1000 && code < 2000 && MAGIC_AFTER_CODE.test(sourceLine)) {
    return 'Hint: a magic (%device, %time, …) is read as one only at the start of a line: put it on a line of its own.';
  }
  // Syntax errors (TS1xxx) on a line that is Python's import.
  if (code >= 1000 && code < 2000 && PYTHON_IMPORT.test(sourceLine)) return pythonImportHint(sourceLine);
  // `declare module 'x' { … }` for a module no file provides: a cell is a module, where that only augments.
  if (code === INVALID_AUGMENTATION) {
    const module = /module '(.+?)' cannot be found/.exec(message)?.[1] ?? 'x';
    return `Hint: a cell is a module, so \`declare module '${module}'\` in it only adds to a package or file that exists. `
      + `To declare a new module, put the block in a .d.ts file next to the notebook and reference it once from a cell: `
      + `/// <reference path="./${module.replace(/[^\w.-]/g, '_')}.d.ts" /> (later cells keep it).`;
  }
  // `x.size()`: "This expression is not callable. Type 'Number' has no call signatures."
  if (code === 2349 && /\.size\s*\(/.test(sourceLine) && /'Number'|'number'/.test(message)) return TENSOR_HINTS['size']!;
  // `(await x.data()).reduce(…)`: a read gives Float32Array | Int32Array | Uint8Array (by dtype),
  // whose reduce signatures TypeScript cannot unite (map, filter and forEach it can).
  if (code === 2349 && TYPED_ARRAY_UNION.test(message) && /\.reduce(Right)?\s*\(/.test(sourceLine)) return readUnionHint(sourceLine);
  // `x.to({ type: 'cuda', index: 0 })`: a torch.device-like object where a name is wanted.
  if (code === 2345 && /to parameter of type 'string'/.test(message) && /(\.to|withDevice|\bdevice)\(/.test(sourceLine)) return DEVICE_IS_A_STRING_HINT;
  if (PROMISE_AS_VALUE.has(code)) {
    const promised = /'Promise<(.+?)>'/.exec(message)?.[1];
    // Not when the promise is what was wanted (`const p: Promise<number> = 1`): then no await is missing.
    if (promised !== undefined && !/(to type|parameter of type) 'Promise</.test(message)) return promiseHint(null, promised, where);
  }
  return null;
}

/**
 * A hint for an error at run time (`%typecheck off`, or a value the checker could not see):
 * TypeError "model.cuda is not a function", with what the receiver turned out to be.
 */
export function runtimeErrorHint(name: string, message: string, receiver: ReceiverKind = 'unknown', cellCode = ''): string | null {
  if (name === 'ReferenceError' && message === 'torch is not defined') return DEVICE_IS_A_STRING_HINT;
  if (name === 'ReferenceError' && message === 'print is not defined') return PRINT_HINT;
  const undeclared = name === 'ReferenceError' ? /^([\w$]+) is not defined$/.exec(message)?.[1] : undefined;
  if (undeclared !== undefined) return cellCode.split('\n').some((line) => firstAssignment(undeclared, line)) ? undeclaredHint(undeclared) : null;
  if (name !== 'TypeError') return null;
  const failed = /^(.+)\.(\w+) is not a function$/.exec(message);
  const member = failed?.[2];
  if (member === undefined) return null;
  // `const xin = withDevice(…); xin.add(1)`: say where the await goes.
  if (receiver === 'promise') return promiseHint(member, 'unknown', { cellCode, subject: failed?.[1] ?? '' }, PROMISE_AT_RUN_TIME_HINT);
  const known = memberHint(member, receiver);
  if (known !== null || receiver !== 'unknown') return known;
  // A receiver the kernel could not look at (a function's local, say): the array hint is the likeliest.
  return DEVICE_METHODS.has(member) ? ARRAY_IS_NOT_A_TENSOR_HINT : null;
}

/** What a value is, for runtimeErrorHint. */
export function receiverKindOf(value: unknown): ReceiverKind {
  if (typeof value === 'string' || Array.isArray(value) || ArrayBuffer.isView(value)) return 'array';
  if (value instanceof Promise) return 'promise';
  if (typeof value !== 'object' || value === null) return 'unknown';
  const has = (name: string): boolean => typeof (value as Record<string, unknown>)[name] === 'function';
  if (has('fit') && has('predict') && has('compile')) return 'model';
  if ('dataId' in value && 'shape' in value && has('dataSync')) return 'tensor';
  if (has('minimize') && has('applyGradients')) return 'optimizer';
  return 'unknown';
}
