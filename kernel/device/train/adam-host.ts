// One Adam update of one variable on the wasm backend, as one loop over its heap: the moments are
// written in place, the variable's new value into a new buffer (returned), because the wasm
// backend's matMul caches XNNPACK operators holding packed copies of a weight's values by the
// weight's id: a weight changed in place would keep multiplying with its old values. tfjs's Adam makes 14 wasm ops per variable, each allocating an
// output and crossing into wasm. Every step is rounded to f32 (Math.fround) in tfjs's order, so the
// results are bit for bit those of its f32 ops (an f32 +, −, ×, ÷ or √ taken in double precision and
// rounded once is exact).
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { DataId, TensorLike } from '../engine-internals';
import type { AdamUpdate } from './adam-update';

/** The part of tfjs-backend-wasm 4.22's backend (dist/backend_wasm.js) the loop reads. */
interface WasmBackendInternals {
  typedArrayFromHeap(info: { shape: number[]; dtype: string; dataId: DataId }): Float32Array;
  makeOutput(shape: number[], dtype: string): TensorInfo;
}

const f32 = Math.fround;

function heapOf(backend: WasmBackendInternals, tensor: TensorLike): Float32Array {
  return backend.typedArrayFromHeap({ shape: tensor.shape, dtype: tensor.dtype, dataId: tensor.dataId });
}

/** Returns the variable's new value. */
export function adamOnWasm(backend: object, update: AdamUpdate): TensorInfo {
  const wasm = backend as WasmBackendInternals;
  const { value, firstMoment, secondMoment, gradient, accBeta1, accBeta2 } = update.tensors;
  const output = wasm.makeOutput(value.shape, 'float32');
  // Views made after the allocation, which may have grown (and so replaced) the heap.
  const values = heapOf(wasm, value);
  const newValues = heapOf(wasm, output as TensorLike);
  const m = heapOf(wasm, firstMoment);
  const v = heapOf(wasm, secondMoment);
  const g = heapOf(wasm, gradient);
  const { beta1, beta2, epsilon, learningRate } = update.constants;
  const [b1, c1, b2, c2, eps, step] = [f32(beta1), f32(1 - beta1), f32(beta2), f32(1 - beta2), f32(epsilon), f32(-learningRate)];
  const oneMinusAccBeta1 = f32(1 - heapOf(wasm, accBeta1)[0]!);
  const oneMinusAccBeta2 = f32(1 - heapOf(wasm, accBeta2)[0]!);
  for (let i = 0; i < values.length; i++) {
    const gi = g[i]!;
    const newM = f32(f32(m[i]! * b1) + f32(gi * c1));
    const newV = f32(f32(v[i]! * b2) + f32(f32(gi * gi) * c2));
    m[i] = newM;
    v[i] = newV;
    const correctedM = f32(newM / oneMinusAccBeta1);
    const correctedV = f32(newV / oneMinusAccBeta2);
    newValues[i] = f32(f32(f32(correctedM / f32(f32(Math.sqrt(correctedV)) + eps)) * step) + values[i]!);
  }
  return output;
}
