// The tensor API cells use, added to tfjs: `x.device`, `await x.to(d)`, `.cuda()`, `.cpu()`,
// `.item()`, `await model.to(d)`, and the functions `asTensor`, `device`, `bestDevice`, `withDevice`.
// Moves are async in every direction: reading back from a GPU is asynchronous in WebGPU.
import type { Tensor } from '@tensorflow/tfjs-core';
import { markTensorPromise } from '../interpreter/promise-display';
import type { MoveOrigin } from './device-control';
import type { TensorLike } from './engine-internals';
import { checkDtype, describeValue, walkRows } from './input-checks';
import { withCallerFrames } from './call-site';
import { plainDataError } from './model-inputs';
import { type SummarizedModel, summarizeModel } from './model-summary';
import type { TfCoreModule, TfLayersModule } from './tfjs';
import { noteKernelWork } from './timing/kernel-work';
import type { MoveCall } from './timing/move-call';

/** What the tensor API needs from the device session. */
export interface TensorMover {
  /** Canonical device name for what the user wrote (throws DeviceError listing the devices). */
  resolve(name: string): Promise<string>;
  deviceOf(tensor: TensorLike): string;
  /** The user's call of a move to `device` (as the user named it), made at `calledAt` (else now): the move is timed from it. */
  moveCall(device: unknown, calledAt?: number): MoveCall;
  /** Whether moving the tensor to `device` has nothing to do: it is there, not in a host array waiting for its upload. */
  settledOn(tensor: TensorLike, device: string): boolean;
  /** Moves the tensor's data to `device` (in place: tfjs moves, the Tensor object stays); `call`: the user's call it is for. */
  move(tensor: TensorLike, device: string, operation: string, call?: MoveCall): Promise<void>;
  /** Runs `run` with `device` as the device new tensors are made on, then restores the current one. */
  runOn<T>(device: string, run: () => T): T;
  /** True when the values can be read synchronously (host tensors, GPU tensors read before). */
  hasHostValues(tensor: TensorLike): boolean;
  /** Reads a tensor's values, recording a GPU readback as a D2H transfer; `calledAt`: when the user's call entered the kernel. */
  read<T>(tensor: TensorLike, operation: string, read: () => Promise<T>, calledAt?: number): Promise<T>;
  /**
   * Asked inside the user's call running now: what to call as its answer reaches the cell's code.
   * The move it recorded is timed until then (the promise hops on the way are the call's too).
   */
  answerer(): () => void;
  /** A move or readback is starting, the user's call still on the stack; call the result when it settles. */
  started(operation: string): (error?: unknown) => void;
  /** Calls `stop` if the running cell is interrupted; returns a canceller. */
  onInterrupt(stop: () => void): () => void;
  /** The cell's code read `.device` (`device`) while `call` (`to('gpu:0')`) of that tensor, to `target` as the user named it, was still under way. */
  deviceReadWhileMoving(call: string, target: string, device: string): void;
  /**
   * Runs one call (a library call, a kernel helper, the user's x.to()) so that the moves it makes,
   * later ones in its promise chains included, are known as that call's and name the caller's line.
   */
  /** `args`: a library call's arguments, whose tensors advice can name as the call's line passes them; `target`: its model. */
  asCall<T>(origin: Omit<MoveOrigin, 'invocation'>, call: () => T, args?: readonly unknown[], target?: unknown): T;
}

/**
 * When the user's call running now (x.to(), x.data()) entered the kernel, while its synchronous part
 * runs: its move is timed from there, so the kernel's own work on the call (this wrapper, finding
 * the call's line) is in the move's time (withKernelWork), not left out of every figure.
 */
let callEnteredAt: number | null = null;
/** The move calls the user's call running now made (model.to makes one): told when it returns its promise. */
let callsMade: MoveCall[] = [];

function enteredAt(): number {
  return callEnteredAt ?? performance.now();
}

/** A move call of the user's call running now (see MoveCall.returned). */
function madeNow(call: MoveCall): MoveCall {
  callsMade.push(call);
  return call;
}

const NOT_ASKED = (): void => undefined;

/**
 * Wraps an async tensor method so that the cell that calls it knows when it is left unawaited. An
 * async wrapper that awaits the method keeps V8's async stack trace from the move to the cell line.
 */
function tracked<This, Args extends unknown[], R>(mover: TensorMover, operation: string, method: (this: This, ...args: Args) => Promise<R>,
  by: 'user' | 'kernel' = 'user') {
  const run = async function trackedMethod(this: This, ...args: Args): Promise<R> {
    const settled = mover.started(operation);
    let answered = NOT_ASKED;
    try {
      const value = await mover.asCall({ by, call: operation }, () => {
        answered = mover.answerer();
        return method.apply(this, args);
      });
      settled();
      // The cell's code resumes one promise hop after this (2 µs a call): the move's time ends here.
      answered();
      return value;
    } catch (error) {
      settled(error ?? new Error(String(error)));
      answered();
      throw error;
    }
  };
  // Printed instead of awaited, the promise says which call was not awaited.
  return function marked(this: This, ...args: Args): Promise<R> {
    // First: a pause for garbage collection as the call enters is the call's time too.
    const entered = performance.now();
    const [outer, outerCalls] = [callEnteredAt, callsMade];
    callEnteredAt = entered;
    callsMade = [];
    try {
      return markTensorPromise(run.apply(this, args), operation);
    } finally {
      const returned = performance.now();
      for (const call of callsMade) call.returned(returned);
      if (outer === null) noteKernelWork(entered, returned, true);
      [callEnteredAt, callsMade] = [outer, outerCalls];
    }
  };
}

/**
 * Per tensor, its latest move called and not settled (`to('gpu:0')`), with how many are, and
 * whether the code that called it has yet to yield (`sameRun`).
 */
const underWay = new WeakMap<object, { call: string; target: string; count: number; sameRun: boolean }>();

function noteUnderWay(tensor: unknown, promise: Promise<unknown>, call: string, target: string): void {
  // Called unbound (`const f = x.to; f('gpu:0')`), the move fails on its own: nothing to note.
  if (typeof tensor !== 'object' || tensor === null) return;
  const entry = underWay.get(tensor) ?? { call, target, count: 0, sameRun: false };
  entry.call = call;
  entry.target = target;
  entry.count++;
  // Read in the same run as the call (`x.to('gpu:0'); x.device`), `.device` cannot have changed
  // yet: an await was forgotten. Read after an await, it may be watching the move on purpose
  // (`while (x.device !== 'cpu') await tick;`), and says nothing.
  entry.sameRun = true;
  queueMicrotask(() => {
    entry.sameRun = false;
  });
  underWay.set(tensor, entry);
  const settled = (): void => {
    if (--entry.count === 0 && underWay.get(tensor) === entry) underWay.delete(tensor);
  };
  promise.then(settled, settled);
}

type AsTensorDtype = 'float32' | 'int32' | 'bool';

const AS_TENSOR_DTYPES: readonly AsTensorDtype[] = ['float32', 'int32', 'bool'];

/** Numbers, booleans and numeric strings become numbers; anything else is named in the error. */
function toNumbers(value: unknown, shape: number[], out: number[]): void {
  shape.push(...walkRows(value, {
    caller: 'asTensor',
    root: 'element ',
    whole: 'the value',
    typedArraysAreRows: true,
    leaf(item, name) {
      if (typeof item === 'number') out.push(item);
      else if (typeof item === 'boolean') out.push(item ? 1 : 0);
      else if (typeof item === 'string' && item.trim() !== '' && Number.isFinite(Number(item))) out.push(Number(item));
      else {
        throw new TypeError(`asTensor: ${name()} is ${describeValue(item)}, which is not a number. `
          + 'Numbers, booleans and numeric strings (labels like "1", "0") work; map other values to numbers first.');
      }
    },
  }));
}

export function createAsTensor(tf: TfCoreModule) {
  return function asTensor(value: unknown, dtype?: AsTensorDtype): Tensor {
    checkDtype('asTensor', dtype, 2, AS_TENSOR_DTYPES);
    if (value instanceof tf.Tensor) return dtype && value.dtype !== dtype ? tf.cast(value, dtype) : value;
    let input = value;
    // "1,0,1" or "1 0 1": a list written as text. Each comma ends one field, so an empty one ("1,2,,3")
    // is named in the error rather than dropped (which shifted every later label by one).
    if (typeof input === 'string' && /[,\s]/.test(input.trim())) input = input.trim().split(input.includes(',') ? /\s*,\s*/ : /\s+/);
    const shape: number[] = [];
    const numbers: number[] = [];
    toNumbers(input, shape, numbers);
    const chosen = dtype ?? (ArrayBuffer.isView(value) && value instanceof Int32Array ? 'int32' : 'float32');
    if (chosen === 'int32') {
      const fractional = numbers.findIndex((n) => !Number.isInteger(n));
      if (fractional >= 0) throw new TypeError(`asTensor: element ${fractional} (in flat order) is ${numbers[fractional]}, which is not an integer: use 'float32', or round first.`);
    }
    return tf.tensor(numbers, shape, chosen);
  };
}

/** Adds the device members to tfjs's Tensor and to tfjs-layers' models. */
export function extendTensors(tf: TfCoreModule, layers: TfLayersModule, mover: TensorMover): void {
  const proto = tf.Tensor.prototype as unknown as Record<string | symbol, unknown>;
  Object.defineProperty(proto, 'device', {
    configurable: true,
    get(this: TensorLike) {
      const device = mover.deviceOf(this);
      // `x.to('gpu:0'); x.device` says 'cpu': the move has not landed. A move that lands within
      // the cell is no unawaited call at its end, so this is where the forgotten await shows (see noteUnderWay).
      const moving = underWay.get(this);
      if (moving?.sameRun === true) mover.deviceReadWhileMoving(moving.call, moving.target, device);
      return device;
    },
  });
  // Each move is timed from the call: code the cell runs before the move gets going holds it up.
  proto['to'] = tracked(mover, 'to', function to(this: TensorLike, device: string) {
    const call = madeNow(mover.moveCall(device, enteredAt()));
    const moving = call.run(async () => {
      const target = await mover.resolve(device);
      call.resumed();
      await mover.move(this, target, 'to', call);
      return this;
    });
    noteUnderWay(this, moving, `to(${typeof device === 'string' ? `'${device}'` : String(device)})`, String(device));
    return moving;
  });
  proto['cuda'] = tracked(mover, 'cuda', function cuda(this: TensorLike, index = 0) {
    const call = madeNow(mover.moveCall(`gpu:${index}`, enteredAt()));
    const moving = call.run(async () => {
      const target = await mover.resolve(`gpu:${index}`);
      call.resumed();
      await mover.move(this, target, 'cuda', call);
      return this;
    });
    noteUnderWay(this, moving, `cuda(${index})`, `gpu:${index}`);
    return moving;
  });
  proto['cpu'] = tracked(mover, 'cpu', function cpu(this: TensorLike) {
    const call = madeNow(mover.moveCall('cpu', enteredAt()));
    const moving = call.run(async () => {
      await mover.move(this, 'cpu', 'cpu', call);
      return this;
    });
    noteUnderWay(this, moving, 'cpu()', 'cpu');
    return moving;
  });
  // How a tensor shows as a cell's value or in console.log: shape, dtype, device, and the values
  // when they are on the host (a GPU's need an async read, which a display cannot wait for).
  const describe = function describe(this: Tensor & TensorLike): string {
    const where = mover.deviceOf(this);
    const header = `Tensor shape=[${this.shape.join(', ')}] dtype=${this.dtype} device=${where}`;
    if (this.isDisposed) return `${header} (disposed)`;
    if (!mover.hasHostValues(this)) return `${header}\n  (on ${where}: await x.data() or await x.cpu() to see its values)`;
    return `${header}\n${this.toString().replace(/^Tensor\n/, '')}`;
  };
  proto[Symbol.for('Jupyter.display')] = function display(this: Tensor & TensorLike) {
    return { 'text/plain': describe.call(this) };
  };
  proto[Symbol.for('nodejs.util.inspect.custom')] = describe;
  const data = proto['data'] as (this: Tensor) => Promise<unknown>;
  proto['data'] = tracked(mover, 'data', function readData(this: Tensor & TensorLike) {
    return mover.read(this, 'data', () => data.call(this), enteredAt());
  });
  // array() is a read, then tfjs nesting the values into arrays on the host: only the read is the
  // move (a 4 MiB read showed 'copy 209 ms, 0.020 GB/s', the read itself 1.8 ms). Once read, the
  // values are cached on the host, and tfjs's own array() nests them without another read.
  const array = proto['array'] as (this: Tensor) => Promise<unknown>;
  proto['array'] = tracked(mover, 'array', async function readArray(this: Tensor & TensorLike) {
    const answered = mover.answerer();
    if (!mover.hasHostValues(this)) await mover.read(this, 'array', () => data.call(this), enteredAt());
    // Nesting the values is tfjs's host work, not the read's: the read's time ends as it returns.
    answered();
    return array.call(this);
  });
  proto['item'] = tracked(mover, 'item', async function item(this: Tensor & TensorLike) {
    if (this.size !== 1) throw new TypeError(`item() needs a tensor with one element; this one has ${this.size} (shape [${this.shape.join(', ')}]).`);
    const values = await mover.read(this, 'item', () => data.call(this), enteredAt()) as ArrayLike<number | string>;
    return values[0];
  });

  const modelProto = layers.LayersModel.prototype as unknown as Record<string | symbol, unknown>;
  // A model on a GPU trains and predicts there: the tensors tfjs-layers makes along the way
  // (loss constants, masks) are made on the model's device too, not moved there op by op.
  const modelDevice = (model: { weights: { read(): TensorLike }[] }): string | null => {
    const first = model.weights[0];
    return first ? mover.deviceOf(first.read()) : null;
  };
  for (const method of ['fit', 'fitDataset', 'evaluate', 'evaluateDataset', 'predict', 'predictOnBatch', 'trainOnBatch', 'trainStep', 'execute']) {
    const original = modelProto[method];
    if (typeof original !== 'function') continue;
    const training = method === 'fit' || method === 'fitDataset';
    modelProto[method] = function onModelDevice(this: { weights: { read(): TensorLike }[]; stopTraining: boolean }, ...args: unknown[]) {
      const notTensors = plainDataError(method, args);
      if (notTensors) {
        if (method === 'predict' || method === 'predictOnBatch') throw notTensors;
        return Promise.reject(notTensors);
      }
      const device = modelDevice(this);
      const call = (): unknown => (original as (...callArgs: unknown[]) => unknown).apply(this, args);
      const origin = { by: 'library' as const, call: method, ...(training ? { perBatchLogs: takesBatchLogs(args[method === 'fit' ? 2 : 1]) } : {}) };
      // Taken now, while the cell's frame is on the stack: fit fails later, in tfjs's promise chain.
      const caller = new Error(method);
      const result = mover.asCall(origin, () => (device === null ? call() : mover.runOn(device, call)), args, this);
      if (training && result instanceof Promise) {
        // An interrupt stops training at the next batch, and the model can be trained again
        // (tfjs clears its "fit() ongoing" flag when fit returns or throws).
        const cancel = mover.onInterrupt(() => {
          this.stopTraining = true;
        });
        result.then(cancel, cancel);
      }
      return result instanceof Promise ? result.catch((error: unknown) => { throw withCallerFrames(error, caller); }) : result;
    };
  }
  // A model as a cell's value or in console.log: a summary of its layers, not its object graph.
  modelProto[Symbol.for('Jupyter.display')] = function display(this: SummarizedModel) {
    const summary = summarizeModel(this, (weight) => mover.deviceOf(weight as TensorLike));
    return { 'text/plain': summary.text, 'text/html': summary.html };
  };
  modelProto[Symbol.for('nodejs.util.inspect.custom')] = function inspectModel(this: SummarizedModel) {
    return summarizeModel(this, (weight) => mover.deviceOf(weight as TensorLike)).text;
  };
  // Timed from the call like x.to(): the first variable that moves carries the time since the call
  // (a loop right after `m.to('gpu:0')` held every move, and showed nowhere).
  modelProto['to'] = tracked(mover, 'model.to', function to(this: { weights: { read(): TensorLike }[]; optimizer?: unknown }, device: string) {
    const call = madeNow(mover.moveCall(device, enteredAt()));
    return call.run(async () => {
      const target = await mover.resolve(device);
      // From here to the first variable's move (reading the weights, the optimizer's slots) is the kernel's work.
      call.resumed();
      let first: MoveCall | undefined = call;
      // The optimizer's slots (Adam's moments…) must follow the weights, or every step moves them.
      for (const variable of [...this.weights.map((weight) => weight.read()), ...optimizerVariables(this.optimizer)]) {
        if (first !== undefined && mover.settledOn(variable, target)) continue;
        await mover.move(variable, target, 'model.to', first);
        first = undefined;
      }
      return this;
    });
  }, 'kernel');
}

/**
 * Whether fit's callbacks take every batch's logs: tfjs-layers (4.22, CustomCallback.onBatchEnd)
 * reads the loss and metrics back after each batch for a callback object with onBatchEnd. Callback
 * class instances (tf.Callback) get the logs as tensors and read nothing themselves.
 */
function takesBatchLogs(options: unknown): boolean {
  const callbacks = (options as { callbacks?: unknown } | null | undefined)?.callbacks;
  const list: unknown[] = Array.isArray(callbacks) ? callbacks : callbacks == null ? [] : [callbacks];
  return list.some((callback) => typeof callback === 'object' && callback !== null && !('setParams' in callback)
    && typeof (callback as { onBatchEnd?: unknown }).onBatchEnd === 'function');
}

function isVariableLike(value: unknown): value is TensorLike {
  return typeof value === 'object' && value !== null && 'dataId' in value && 'trainable' in value;
}

/** Variables an optimizer holds: its own fields, and arrays of `{ originalName, variable }`. */
function optimizerVariables(optimizer: unknown): TensorLike[] {
  if (typeof optimizer !== 'object' || optimizer === null) return [];
  const found: TensorLike[] = [];
  for (const value of Object.values(optimizer)) {
    if (isVariableLike(value)) found.push(value);
    else if (Array.isArray(value)) {
      for (const slot of value) {
        const variable = (slot as { variable?: unknown } | null)?.variable;
        if (isVariableLike(variable)) found.push(variable);
      }
    }
  }
  return found;
}
