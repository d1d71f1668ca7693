// Host tensors' bytes, and copying elements between the host's layout and the GPU's. The GPU keeps
// every movable dtype in 4 bytes per element; the host keeps bool in one.
import type { BackendLike, DataId } from '../engine-internals';
import { isWasmBackend } from './gpu-types';

export type MovableDtype = 'float32' | 'int32' | 'bool';
export const GPU_BYTES_PER_ELEMENT = 4;

export function isMovableDtype(dtype: string): dtype is MovableDtype {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

export function hostBytesPerElement(dtype: MovableDtype): number {
  return dtype === 'bool' ? 1 : 4;
}

/**
 * The bytes of a host tensor where they are: the wasm heap, or the cpu backend's typed array.
 * A view of the wasm heap goes stale when the heap grows: take a new one after every await.
 */
export function hostView(backend: BackendLike, dataId: DataId): Uint8Array {
  if (isWasmBackend(backend)) {
    const entry = backend.dataIdMap.get(dataId);
    if (!entry || entry.memoryOffset === null) throw new Error('the tensor is not in the wasm heap');
    const count = entry.shape.reduce((product, dimension) => product * dimension, 1);
    return new Uint8Array(backend.wasm.HEAPU8.buffer, entry.memoryOffset, count * hostBytesPerElement(entry.dtype as MovableDtype));
  }
  const values = backend.readSync(dataId) as ArrayBufferView;
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Elements [first, first + count) of host bytes, written in the GPU's layout at the start of `target`. */
export function copyHostToGpu(dtype: MovableDtype, source: Uint8Array, first: number, count: number, target: ArrayBuffer): void {
  if (dtype === 'bool') new Int32Array(target, 0, count).set(source.subarray(first, first + count));
  else new Uint8Array(target, 0, count * 4).set(source.subarray(first * 4, (first + count) * 4));
}

/** The same elements as a view writeBuffer can take (bool widened into a new array). */
export function gpuLayoutOf(dtype: MovableDtype, source: Uint8Array, first: number, count: number): Uint8Array | Int32Array {
  return dtype === 'bool' ? Int32Array.from(source.subarray(first, first + count)) : source.subarray(first * 4, (first + count) * 4);
}

/** `count` elements in the GPU's layout, written into host bytes from element `first` on. */
export function copyGpuToHost(dtype: MovableDtype, source: ArrayBuffer, count: number, target: Uint8Array, first: number): void {
  if (dtype === 'bool') target.subarray(first, first + count).set(new Int32Array(source, 0, count));
  else target.set(new Uint8Array(source, 0, count * 4), first * 4);
}

/** A new host array of the type tfjs returns from data() for this dtype. */
export function newHostArray(dtype: MovableDtype, count: number): Float32Array | Int32Array | Uint8Array {
  return dtype === 'float32' ? new Float32Array(count) : dtype === 'int32' ? new Int32Array(count) : new Uint8Array(count);
}
