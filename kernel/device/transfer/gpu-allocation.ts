// GPU buffers that are known to exist before anything is handed over to them. Dawn does not throw
// when a buffer cannot be made (out of memory, or over the device's maxBufferSize): it returns an
// invalid buffer and raises an error nobody catches, so a move that went on would dispose the host
// copy and leave the tensor on nothing. An explicit move waits for error scopes around its
// allocation; a synchronous one (an op's implicit move, an op's output) cannot wait, so every
// allocation is also checked against the device's size limit before it is made.
import { bytesText } from '../../display/report/format';
import { DeviceError } from '../registry';
import type { DataId } from '../engine-internals';
import type { GpuBuffer, GpuBufferManager, WebGpuBackend } from './gpu-types';

export class GpuAllocationError extends DeviceError {}

/** Dawn's messages go on to advise the WebGPU programmer (requiredLimits…): the first sentence is the reason. */
function firstSentence(message: string): string {
  return (message.split('\n')[0] ?? message).split(/\.(\s|$)/)[0]!;
}

/** A GPU as an allocation error describes it: its name and the bytes of tensors it holds now. */
export interface GpuIdentity {
  device: string;
  liveBytes(): number;
}

/** What a GPU holds now and the most one buffer (and one op) may take: what an allocation error can say of it. */
function deviceState(gpu: WebGpuBackend, { device, liveBytes }: GpuIdentity): string {
  const { maxBufferSize, maxStorageBufferBindingSize } = gpu.device.limits;
  return `${device} holds ${bytesText(liveBytes())} of tensors now (WebGPU does not say how much is free); `
    + `one buffer can be at most ${bytesText(maxBufferSize)} there, and one op can use at most ${bytesText(maxStorageBufferBindingSize)} of one`;
}

function refusal(gpu: WebGpuBackend, identity: GpuIdentity, bytes: number, reason: string, outcome: string): GpuAllocationError {
  const outOfMemory = /memory/i.test(reason);
  const advice = outOfMemory
    ? 'Free GPU tensors you no longer need (x.dispose(), or drop them and run %gc), use smaller batches, or keep this one on the host.'
    : 'Split it into parts an op can use (tf.split, slices) and move those, or keep it on the host.';
  return new GpuAllocationError(`${identity.device} could not make a ${bytesText(bytes)} buffer: ${reason}. ${outcome} ${deviceState(gpu, identity)}. ${advice}`);
}

/**
 * Guards every allocation tfjs makes on this GPU (op outputs included) with the size check, and
 * returns the unguarded allocator for checkedBuffer, which asks Dawn instead. The check throws
 * from inside an op's kernel, after it may have taken references on its inputs: Placement puts
 * them back (inputReferences / restoreInputReferences).
 */
export function guardAllocations(gpu: WebGpuBackend, identity: GpuIdentity): GpuBufferManager['acquireBuffer'] {
  const manager = gpu.bufferManager;
  const acquire = manager.acquireBuffer.bind(manager);
  // Read once: the binding makes a new limits object at each read of device.limits (~3 µs, and
  // tfjs allocates a buffer per op output), and a device's limits never change.
  const maxBufferSize = gpu.device.limits.maxBufferSize;
  manager.acquireBuffer = (size, usage, mappedAtCreation, reuse) => {
    if (size > maxBufferSize) {
      throw refusal(gpu, identity, size, 'more than its largest buffer (maxBufferSize)', 'Nothing was changed: the inputs are intact.');
    }
    return acquire(size, usage, mappedAtCreation, reuse);
  };
  return acquire;
}

/**
 * A buffer Dawn has confirmed it made: out-of-memory and validation error scopes around the
 * allocation are awaited, and a refused buffer is destroyed (never pooled) before the error is thrown.
 * `onChecked` runs as soon as Dawn has answered, before the returned promise settles.
 */
export async function checkedBuffer(gpu: WebGpuBackend, identity: GpuIdentity, acquire: GpuBufferManager['acquireBuffer'],
  bytes: number, usage: number, onChecked?: () => void): Promise<GpuBuffer> {
  gpu.device.pushErrorScope('out-of-memory');
  gpu.device.pushErrorScope('validation');
  let buffer: GpuBuffer | null = null;
  let thrown: unknown = null;
  try {
    buffer = acquire(bytes, usage);
  } catch (error) {
    thrown = error;
  }
  // Both popped at once, whatever happened: a scope left pushed across an await would catch (and
  // blame on this move) errors of GPU work that runs meanwhile.
  const pops = [gpu.device.popErrorScope(), gpu.device.popErrorScope()] as const;
  if (onChecked) {
    // Called in the pops' own reactions, which run among the jobs of the poll that settled them:
    // the await below comes back a few jobs later, after code of the cell's that poll resolved too
    // (a 500 ms loop behind the cell's own fence), and a move timing itself from there could not
    // tell that the thread ran that code (see host-away.ts).
    let left = pops.length;
    const settled = (): void => {
      if (--left === 0) onChecked();
    };
    for (const pop of pops) pop.then(settled, settled);
  }
  const [validation, outOfMemory] = await Promise.all(pops);
  const error = outOfMemory ?? validation;
  if (error !== null) {
    if (buffer !== null) gpu.bufferManager.releaseBuffer(buffer, false);
    throw refusal(gpu, identity, bytes, firstSentence(error.message), 'The tensor stays where it was, unchanged.');
  }
  if (buffer === null) throw thrown;
  return buffer;
}

/** tfjs-backend-webgpu's reference count of each input's buffer, before an op that may be refused. */
export function inputReferences(gpu: WebGpuBackend, inputs: Record<string, { dataId?: DataId } | undefined> | { dataId?: DataId }[]): number[] {
  const counts: number[] = [];
  for (const key in inputs) {
    const dataId = (inputs as Record<string, { dataId?: DataId } | undefined>)[key]?.dataId;
    counts.push(dataId === undefined ? -1 : gpu.tensorMap.get(dataId)?.refCount ?? -1);
  }
  return counts;
}

/** After a refused op: each input's buffer back to the references it had, so it is freed when its tensors go. */
export function restoreInputReferences(gpu: WebGpuBackend, inputs: Record<string, { dataId?: DataId } | undefined> | { dataId?: DataId }[],
  counts: number[]): void {
  let index = 0;
  for (const key in inputs) {
    const dataId = (inputs as Record<string, { dataId?: DataId } | undefined>)[key]?.dataId;
    const count = counts[index++];
    const data = dataId === undefined ? undefined : gpu.tensorMap.get(dataId);
    if (data !== undefined && count !== undefined && count >= 0) data.refCount = count;
  }
}

/** tfjs-backend-webgpu's BufferManager fields that hold its pool of free buffers (buffer_manager.js, tfjs 4.22). */
interface PooledBuffers {
  freeBuffers: Map<string, GpuBuffer[]>;
  numFreeBuffers: number;
  numBytesAllocated: number;
}

/**
 * Destroys the buffers tfjs keeps pooled for reuse (as PyTorch's empty_cache): the device gets
 * their memory back, and the next allocation of each size makes a new one. Returns the bytes.
 */
export function releasePooledBuffers(gpu: WebGpuBackend): number {
  const manager = gpu.bufferManager as unknown as PooledBuffers;
  let bytes = 0;
  for (const buffers of manager.freeBuffers.values()) {
    for (const buffer of buffers) {
      bytes += buffer.size;
      buffer.destroy();
    }
    buffers.length = 0;
  }
  manager.numFreeBuffers = 0;
  manager.numBytesAllocated -= bytes;
  return bytes;
}
