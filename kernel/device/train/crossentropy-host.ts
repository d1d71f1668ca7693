// Categorical crossentropy on probabilities and its gradient on the wasm backend: one loop over the
// rows of its heap each, where tfjs-layers' loss makes ~10 wasm ops forward and ~25 backward, each
// allocating an output and crossing into wasm. Sums are taken in double precision and each result
// rounded once to f32 (tfjs's ops round after every op: the figures differ in the last bits).
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { DataId, TensorLike } from '../engine-internals';
import type { CrossentropyCall } from './crossentropy';

/** The part of tfjs-backend-wasm 4.22's backend (dist/backend_wasm.js) the loops read. */
interface WasmBackendInternals {
  typedArrayFromHeap(info: { shape: number[]; dtype: string; dataId: DataId }): Float32Array;
  makeOutput(shape: number[], dtype: string): TensorInfo;
}

function heapOf(backend: WasmBackendInternals, tensor: TensorInfo): Float32Array {
  const { shape, dtype, dataId } = tensor as TensorLike;
  return backend.typedArrayFromHeap({ shape, dtype, dataId });
}

function rowSum(p: Float32Array, base: number, classes: number): number {
  let total = 0;
  for (let j = 0; j < classes; j++) total += p[base + j]!;
  return Math.fround(total);
}

export function crossentropyOnWasm(backend: object, call: CrossentropyCall): TensorInfo {
  const wasm = backend as WasmBackendInternals;
  const [rows, classes] = call.probabilities.shape as [number, number];
  const output = wasm.makeOutput([rows], 'float32');
  // Views made after the allocation, which may have grown (and so replaced) the heap.
  const [p, t, loss] = [heapOf(wasm, call.probabilities), heapOf(wasm, call.targets), heapOf(wasm, output)];
  const [low, high] = [Math.fround(call.epsilon), Math.fround(1 - call.epsilon)];
  for (let row = 0; row < rows; row++) {
    const base = row * classes;
    const total = rowSum(p, base, classes);
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const clipped = Math.min(Math.max(Math.fround(p[base + j]! / total), low), high);
      sum += t[base + j]! * Math.log(clipped);
    }
    loss[row] = -sum;
  }
  return output;
}

export function crossentropyGradientOnWasm(backend: object, call: CrossentropyCall & { upstream: TensorInfo }): TensorInfo {
  const wasm = backend as WasmBackendInternals;
  const [rows, classes] = call.probabilities.shape as [number, number];
  const output = wasm.makeOutput([rows, classes], 'float32');
  const [p, t, dy, dp] = [heapOf(wasm, call.probabilities), heapOf(wasm, call.targets), heapOf(wasm, call.upstream), heapOf(wasm, output)];
  const [low, high] = [Math.fround(call.epsilon), Math.fround(1 - call.epsilon)];
  const g = new Float64Array(classes);
  for (let row = 0; row < rows; row++) {
    const base = row * classes;
    const total = rowSum(p, base, classes);
    const upstream = dy[row]!;
    let weighted = 0;
    for (let j = 0; j < classes; j++) {
      const q = Math.fround(p[base + j]! / total);
      g[j] = q >= low && q <= high ? (-upstream * t[base + j]!) / q : 0;
      weighted += g[j]! * p[base + j]!;
    }
    const correction = weighted / (total * total);
    for (let j = 0; j < classes; j++) dp[base + j] = g[j]! / total - correction;
  }
  return output;
}
