// The parts of the tfjs 4.22.0 engine the device layer hooks into. They are not public API, which
// is why tfjs is pinned; each field is used as tfjs-core/dist/engine.js defines it.
import type { TensorInfo } from '@tensorflow/tfjs-core';

export interface DataId { readonly __dataId?: never }

/** What engine.state.tensorInfo holds per buffer: where the data lives, and its size. */
export interface BufferInfo {
  backend: BackendLike;
  dtype: string;
  shape: number[];
  bytes: number;
}

/** A backend's own record of one buffer (webgpu). */
export interface BackendData { values: unknown; dtype: string; resource?: unknown; complexTensorInfos?: unknown }

/** A complex64 tensor's two float32 parts, which hold its values (the complex tensor's own record holds none); null for any other. */
export function complexParts(data: BackendData | undefined): { dataId: DataId }[] | null {
  const parts = data?.complexTensorInfos as { real?: { dataId: DataId }; imag?: { dataId: DataId } } | null | undefined;
  return parts?.real && parts.imag ? [parts.real, parts.imag] : null;
}

export interface BackendLike {
  readSync(dataId: DataId): unknown;
  incRef(dataId: DataId): void;
  memory(): { numBytesInGPU?: number; numBytesAllocatedInGPU?: number; unreliable?: boolean };
  /** webgpu only: uploads pending host values into a GPU buffer. */
  uploadToGPU?(dataId: DataId): void;
  /**
   * webgpu only: per-buffer state. `values` set means a host copy exists; `resource` set means a GPU
   * buffer holds the data. Values without a resource live in a host array only (made from host
   * values and not used by a GPU op yet, or the result of an op tfjs ran on the CPU).
   */
  tensorMap?: {
    get(dataId: DataId): BackendData | undefined;
    /** tfjs's DataStorage keeps its entries in this map; its get() also pulls a buffer of another backend over, which a query must not. */
    data?: WeakMap<DataId, BackendData>;
  };
  /** webgpu only: flushes recorded commands to the GPU queue. */
  commandEncoder?: unknown;
  endComputePassEncoder?(): void;
  submitQueue?(): void;
}

export interface TensorLike extends TensorInfo {
  readonly dataId: DataId;
  readonly size: number;
  readonly rank: number;
  kept?: boolean;
  isDisposed: boolean;
  dispose(): void;
}

export interface EngineLike {
  backendName: string;
  backendInstance: BackendLike;
  registry: Record<string, BackendLike>;
  state: {
    tensorInfo: WeakMap<DataId, BufferInfo>;
    numBytes: number;
    /** The innermost scope: a tfjs op's is named `<op>__op` (tidy's are the user's names). */
    activeScope: { name: string } | null;
  };
  /** Opens a scope; tfjs's op wrapper opens one named `<op>__op` around each op (tfjs-layers passes null for unnamed ones). */
  startScope(name?: string | null): void;
  /** Closes the innermost scope, disposing its tensors but those in `result`. */
  endScope(result?: unknown): void;
  runKernel(kernelName: string, inputs: Record<string, TensorLike | undefined> | TensorLike[], attrs: unknown): unknown;
  moveData(backend: BackendLike, dataId: DataId): void;
  /** Async read through the owning backend; a GPU backend keeps the values as a host copy. */
  read(dataId: DataId): Promise<unknown>;
  incRef(tensor: TensorLike, backend: BackendLike): void;
  trackTensor(tensor: TensorLike, backend: BackendLike): void;
  removeDataId(dataId: DataId, backend: BackendLike): void;
}
