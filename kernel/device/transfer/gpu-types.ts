// The WebGPU members and tfjs backend internals the transfer engine uses, typed locally: tfjs and
// `webgpu` ship conflicting WebGPU declarations, and the backends' fields are not public API (tfjs
// is pinned at 4.22.0; each field is used as its dist/backend_*.js defines it).
import type { BackendLike, DataId, TensorLike } from '../engine-internals';
import type { StampableEncoder } from './move-notes';

/** WebGPU's usage and map-mode bits (fixed by the WebGPU specification). */
export const BufferUsage = { MAP_READ: 0x1, MAP_WRITE: 0x2, COPY_SRC: 0x4, COPY_DST: 0x8, STORAGE: 0x80 } as const;
export const MapMode = { READ: 0x1, WRITE: 0x2 } as const;
/** How tfjs-backend-webgpu allocates tensor buffers; a buffer made otherwise would not be pooled with them. */
export const TENSOR_BUFFER_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export interface GpuBuffer {
  readonly size: number;
  readonly usage: number;
  readonly mapState: 'unmapped' | 'pending' | 'mapped';
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

export interface GpuCommandEncoder extends StampableEncoder {
  copyBufferToBuffer(source: GpuBuffer, sourceOffset: number, destination: GpuBuffer, destinationOffset: number, size: number): void;
  clearBuffer(buffer: GpuBuffer): void;
  finish(): unknown;
}

export interface GpuQueue {
  submit(commandBuffers: unknown[]): void;
  writeBuffer(buffer: GpuBuffer, bufferOffset: number, data: ArrayBufferView, dataOffset?: number, size?: number): void;
  onSubmittedWorkDone(): Promise<void>;
}

export interface GpuDevice {
  readonly queue: GpuQueue;
  readonly limits: { readonly maxBufferSize: number; readonly maxStorageBufferBindingSize: number };
  createBuffer(descriptor: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBuffer;
  createCommandEncoder(): GpuCommandEncoder;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ readonly message: string } | null>;
}

/** tfjs-backend-webgpu's BufferManager, as far as allocation goes. */
export interface GpuBufferManager {
  acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GpuBuffer;
  /** `reuse` false destroys the buffer rather than pooling it. */
  releaseBuffer(buffer: GpuBuffer, reuse?: boolean): void;
  numBytesUsed: number;
  /** Grows when acquireBuffer makes a new buffer rather than reusing a pooled one. */
  numBytesAllocated: number;
}

/** One buffer's entry in tfjs-backend-webgpu's tensorMap. */
export interface WebGpuTensorData {
  dtype: string;
  shape: number[];
  values: unknown;
  refCount: number;
  resource?: unknown;
  external?: boolean;
  complexTensorInfos?: unknown;
}

/** tfjs-backend-webgpu's WebGPUBackend, as far as moving data goes. */
export interface WebGpuBackend extends BackendLike {
  readonly device: GpuDevice;
  readonly queue: GpuQueue;
  readonly bufferManager: GpuBufferManager;
  readonly tensorMap: { get(dataId: DataId): WebGpuTensorData | undefined; has(dataId: DataId): boolean };
  commandEncoder: unknown;
  endComputePassEncoder(): void;
  submitQueue(): void;
  read(dataId: DataId): Promise<unknown>;
  move(dataId: DataId, values: unknown, shape: number[], dtype: string, refCount: number): void;
  disposeData(dataId: DataId, force?: boolean): boolean;
  refCount(dataId: DataId): number;
  /** Uploads a buffer's pending host values (tfjs calls it inside the first op that uses the buffer). */
  uploadToGPU(dataId: DataId): void;
  /** A tensor of its own over `buffer`: with zeroCopy false, a copy of it made on the GPU's queue. */
  createTensorFromGPUData(data: { buffer: unknown; zeroCopy: boolean }, shape: number[], dtype: string): TensorLike;
}

/** tfjs-backend-wasm's BackendWasm: tensors live in the module's heap at memoryOffset. */
export interface WasmBackend extends BackendLike {
  readonly dataIdMap: { get(dataId: DataId): { memoryOffset: number | null; dtype: string; shape: number[]; refCount: number } | undefined };
  readonly wasm: { readonly HEAPU8: Uint8Array };
  move(dataId: DataId, values: unknown, shape: number[], dtype: string, refCount: number): void;
  disposeData(dataId: DataId, force?: boolean): boolean;
  refCount(dataId: DataId): number;
}

export function isWebGpuBackend(backend: BackendLike): backend is WebGpuBackend {
  return 'bufferManager' in backend && 'queue' in backend;
}

export function isWasmBackend(backend: BackendLike): backend is WasmBackend {
  return 'dataIdMap' in backend && 'wasm' in backend;
}
