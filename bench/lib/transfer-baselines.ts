// Same-run baselines for the transfer bench: what raw Dawn and tfjs's default path achieve on the
// device under test, so tsgpu's own moves are compared on the same machine, in the same process.
//
//   node dist/bench/lib/transfer-baselines.js [--sizes 4B,1M,16M,64M,256M,1G] [--repeats 5]
//
// Each function does one untimed warm-up run, then `repeats` timed runs, and returns the median.
// Only the few WebGPU members used here are typed, locally: tfjs and `webgpu` ship two conflicting
// copies of the WebGPU type declarations.
import { performance } from 'node:perf_hooks';
import type { KernelBackend, Tensor } from '@tensorflow/tfjs-core';
import type { TfCoreModule } from '../../kernel/device/tfjs';

// WebGPU's GPUBufferUsage and GPUMapMode values (spec constants), so no Dawn globals are needed.
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const STORAGE = 0x80;
const MAP_MODE_READ = 0x1;

/**
 * No host-visible buffer of 128 MB or more: Dawn aborted the process for map-based buffers that
 * large on an H200. writeBuffer stages writes over 4 MiB through one mapped buffer of the write's
 * full size, so writes are split at the same size.
 */
export const DEFAULT_CHUNK_BYTES = 64 << 20;

export interface BaselineBuffer {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

export interface BaselineDevice {
  createBuffer(descriptor: { size: number; usage: number; mappedAtCreation?: boolean }): BaselineBuffer;
  createCommandEncoder(): {
    copyBufferToBuffer(source: BaselineBuffer, sourceOffset: number, destination: BaselineBuffer, destinationOffset: number, size: number): void;
    finish(): unknown;
  };
  readonly queue: {
    writeBuffer(buffer: BaselineBuffer, bufferOffset: number, data: Float32Array, dataOffset?: number, size?: number): void;
    submit(commandBuffers: unknown[]): void;
    onSubmittedWorkDone(): Promise<void>;
  };
  pushErrorScope(filter: 'validation' | 'out-of-memory'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

/** The tfjs-backend-webgpu members its default upload and readback go through (tfjs 4.22.0). */
interface TfjsGpuBackend {
  uploadToGPU(dataId: object): void;
  /** Commands tfjs batches before submitting; null right after a submit. */
  readonly commandEncoder: unknown;
  endComputePassEncoder(): void;
  submitQueue(): void;
  readonly device: { readonly queue: { onSubmittedWorkDone(): Promise<void> } };
}

export interface Timing {
  bytes: number;
  /** Median over the timed runs. */
  seconds: number;
  gbPerSecond: number;
  runs: number;
}

export interface ChunkOptions {
  /** Largest single write or map; Infinity for one call of the whole size. */
  chunkBytes?: number;
}

export interface MapReadOptions extends ChunkOptions {
  /**
   * 'fresh': getMappedRange().slice(0) per map, a new host array each time, as tfjs reads back.
   * 'reused': .set into one host Float32Array kept across runs; the gap between the two is the
   * cost of touching new host memory (H200, 64 MB: 1.7 vs 7.9 GB/s).
   */
  into?: 'fresh' | 'reused';
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function timing(bytes: number, seconds: number[]): Timing {
  const typical = median(seconds);
  return { bytes, seconds: typical, gbPerSecond: bytes / typical / 1e9, runs: seconds.length };
}

function checkArguments(bytes: number, repeats: number, chunkBytes: number): void {
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes % 4 !== 0) throw new RangeError(`bytes must be a positive multiple of 4 (float32), got ${bytes}`);
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`repeats must be a positive integer, got ${repeats}`);
  // mapAsync offsets must be multiples of 8.
  if (chunkBytes !== Infinity && (!Number.isInteger(chunkBytes) || chunkBytes <= 0 || chunkBytes % 8 !== 0)) {
    throw new RangeError(`chunkBytes must be a positive multiple of 8 or Infinity, got ${chunkBytes}`);
  }
}

/** Never 0, so a buffer that was never written cannot match. */
function expected(index: number): number {
  return (index % 251) + 1;
}

/**
 * Non-zero contents: a fresh Float32Array's untouched pages all map the kernel's zero page, and
 * copying from them runs faster than copying real data would.
 */
export function patterned(elements: number): Float32Array {
  const host = new Float32Array(elements);
  for (let i = 0; i < elements; i++) host[i] = expected(i);
  return host;
}

/** Runs `setup`, turning Dawn's asynchronous validation or out-of-memory errors into a throw. */
async function checked<T>(device: BaselineDevice, what: string, setup: () => T): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  const made = setup();
  const outOfMemory = await device.popErrorScope();
  const invalid = await device.popErrorScope();
  const error = outOfMemory ?? invalid;
  if (error) throw new Error(`${what}: ${error.message}`);
  return made;
}

function writeChunked(device: BaselineDevice, buffer: BaselineBuffer, host: Float32Array, chunkBytes: number): void {
  const bytes = host.byteLength;
  const step = Math.min(bytes, chunkBytes);
  for (let offset = 0; offset < bytes; offset += step) {
    device.queue.writeBuffer(buffer, offset, host, offset / 4, Math.min(step, bytes - offset) / 4);
  }
}

/**
 * Host → GPU with queue.writeBuffer from one reused host array into a STORAGE buffer, timed until
 * the queue has finished. Dawn takes one write of any size up to maxBufferSize (1 GiB checked on
 * lavapipe), but stages it through a mapped buffer of that size: see DEFAULT_CHUNK_BYTES.
 */
export async function rawWriteBuffer(device: BaselineDevice, bytes: number, repeats: number, options: ChunkOptions = {}): Promise<Timing> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  checkArguments(bytes, repeats, chunkBytes);
  const host = patterned(bytes / 4);
  const target = await checked(device, `a ${bytes}-byte GPU buffer`, () => device.createBuffer({ size: bytes, usage: STORAGE | COPY_DST | COPY_SRC }));
  try {
    const seconds: number[] = [];
    for (let run = 0; run <= repeats; run++) {
      const started = performance.now();
      writeChunked(device, target, host, chunkBytes);
      // Dawn otherwise submits pending writes at its next tick, which would land inside the timing.
      device.queue.submit([]);
      await device.queue.onSubmittedWorkDone();
      if (run > 0) seconds.push((performance.now() - started) / 1000);
    }
    return timing(bytes, seconds);
  } finally {
    target.destroy();
  }
}

/**
 * GPU → host: copyBufferToBuffer into a MAP_READ buffer, mapAsync, copy out, unmap; one staging
 * buffer of at most chunkBytes, reused chunk after chunk and run after run. The warm-up run checks
 * the values that came back, so a broken copy cannot pass for a fast one.
 */
export async function rawMapRead(device: BaselineDevice, bytes: number, repeats: number, options: MapReadOptions = {}): Promise<Timing> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const into = options.into ?? 'fresh';
  checkArguments(bytes, repeats, chunkBytes);
  const step = Math.min(bytes, chunkBytes);
  const { source, staging } = await checked(device, `${bytes}-byte source and ${step}-byte staging buffers`, () => {
    const made = {
      source: device.createBuffer({ size: bytes, usage: STORAGE | COPY_DST | COPY_SRC }),
      staging: device.createBuffer({ size: step, usage: MAP_READ | COPY_DST }),
    };
    writeChunked(device, made.source, patterned(bytes / 4), chunkBytes);
    return made;
  });
  const reused = into === 'reused' ? new Float32Array(bytes / 4) : null;
  try {
    await device.queue.onSubmittedWorkDone();
    const seconds: number[] = [];
    for (let run = 0; run <= repeats; run++) {
      // Kept until the run ends, as a caller would keep what it read.
      const fresh: ArrayBuffer[] = [];
      const started = performance.now();
      for (let offset = 0; offset < bytes; offset += step) {
        const size = Math.min(step, bytes - offset);
        const encoder = device.createCommandEncoder();
        encoder.copyBufferToBuffer(source, offset, staging, 0, size);
        device.queue.submit([encoder.finish()]);
        await staging.mapAsync(MAP_MODE_READ, 0, size);
        const mapped = staging.getMappedRange(0, size);
        if (reused) reused.set(new Float32Array(mapped), offset / 4);
        else fresh.push(mapped.slice(0));
        staging.unmap();
      }
      if (run > 0) seconds.push((performance.now() - started) / 1000);
      else verifyPattern(reused ?? fresh, bytes, 'raw map-read');
    }
    return timing(bytes, seconds);
  } finally {
    source.destroy();
    staging.destroy();
  }
}

/** Spot-checks the first, middle and last elements against patterned()'s values. */
function verifyPattern(read: Float32Array | ArrayBuffer[], bytes: number, what: string): void {
  const elements = bytes / 4;
  const chunks = Array.isArray(read) ? read.map((chunk) => new Float32Array(chunk)) : [read];
  const at = (index: number): number | undefined => {
    let rest = index;
    for (const chunk of chunks) {
      if (rest < chunk.length) return chunk[rest];
      rest -= chunk.length;
    }
    return undefined;
  };
  for (const index of [0, elements >> 1, elements - 1]) {
    const value = at(index);
    if (value !== expected(index)) throw new Error(`${what} of ${bytes} bytes returned ${value} at element ${index}, expected ${expected(index)}`);
  }
}

interface GpuBackendRef {
  kernel: KernelBackend;
  gpu: TfjsGpuBackend;
}

function gpuBackend(core: TfCoreModule, name: string): GpuBackendRef {
  const kernel = core.findBackend(name) as KernelBackend | null;
  // KernelBackend's public type has none of the WebGPU members: checked here instead.
  const gpu = kernel as unknown as Partial<TfjsGpuBackend> | null;
  if (!kernel || typeof gpu?.uploadToGPU !== 'function' || typeof gpu.submitQueue !== 'function' || !gpu.device) {
    throw new Error(`tfjs backend "${name}" is not an initialised tfjs-backend-webgpu backend`);
  }
  return { kernel, gpu: gpu as TfjsGpuBackend };
}

/** tfjs batches copies in its own command encoder: submit them, then wait for the queue. */
async function finishGpuWork(backend: TfjsGpuBackend): Promise<void> {
  if (backend.commandEncoder) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  await backend.device.queue.onSubmittedWorkDone();
}

/** A float32 tensor on the GPU backend from host values, uploaded, with no host copy left. */
async function uploaded(core: TfCoreModule, backend: GpuBackendRef, host: Float32Array): Promise<Tensor> {
  // engine.makeTensor with a backend is what tf.tensor() does on the current backend, without
  // switching backends (tf.setBackend costs ~0.2 ms and would disturb tsgpu's placement).
  const tensor = core.engine().makeTensor(host, [host.length], 'float32', backend.kernel);
  backend.gpu.uploadToGPU(tensor.dataId);
  await finishGpuWork(backend.gpu);
  return tensor;
}

/**
 * tfjs's default host → GPU path: a tensor made on the GPU backend from a host array (tfjs keeps
 * the array, no copy), then uploadToGPU, which tfjs runs when a kernel first uses the tensor,
 * timed until the queue has finished. From the second run on, tfjs's buffer pool hands back an
 * unmapped buffer, so each upload goes through a fresh mapped staging buffer of the full size:
 * sizes of 128 MB and more may hit the H200 abort described at DEFAULT_CHUNK_BYTES.
 */
export async function tfjsUpload(core: TfCoreModule, gpuBackendName: string, bytes: number, repeats: number): Promise<Timing> {
  checkArguments(bytes, repeats, Infinity);
  const backend = gpuBackend(core, gpuBackendName);
  const host = patterned(bytes / 4);
  const seconds: number[] = [];
  for (let run = 0; run <= repeats; run++) {
    const started = performance.now();
    const tensor = await uploaded(core, backend, host);
    if (run > 0) seconds.push((performance.now() - started) / 1000);
    tensor.dispose();
  }
  return timing(bytes, seconds);
}

/**
 * tfjs's default GPU → host path: what `await t.data()` does, on a tensor that exists only on the
 * GPU. A fresh tensor per run (uploaded untimed): tfjs keeps the values on the host after a read,
 * and a second read would be free. engine.read is the whole of Tensor.data() for float32; it is
 * called directly so a ledger tsgpu hangs on data() is not counted in tfjs's figure. tfjs maps
 * one staging buffer of the full size (see tfjsUpload about 128 MB and more).
 */
export async function tfjsReadback(core: TfCoreModule, gpuBackendName: string, bytes: number, repeats: number): Promise<Timing> {
  checkArguments(bytes, repeats, Infinity);
  const backend = gpuBackend(core, gpuBackendName);
  const host = patterned(bytes / 4);
  const engine = core.engine();
  const seconds: number[] = [];
  for (let run = 0; run <= repeats; run++) {
    const tensor = await uploaded(core, backend, host);
    const started = performance.now();
    const values = await engine.read(tensor.dataId);
    if (run > 0) seconds.push((performance.now() - started) / 1000);
    else verifyPattern(values as Float32Array, bytes, 'tfjs readback');
    tensor.dispose();
  }
  return timing(bytes, seconds);
}

interface DawnModule {
  create(options: string[]): { requestAdapter(): Promise<DawnAdapter | null> };
  globals: Record<string, unknown>;
}

interface DawnAdapter {
  readonly info: { description: string; architecture: string };
  readonly limits: Record<string, number>;
  requestDevice(descriptor: { requiredLimits: Record<string, number> }): Promise<BaselineDevice & { destroy(): void }>;
}

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

/** '4B', '1M', '1G' (binary units) to bytes. */
export function parseSize(text: string): number {
  const match = /^(\d+)([BKMG]?)$/i.exec(text.trim());
  if (!match) throw new RangeError(`a size is written like 4B, 1M or 1G, not "${text}"`);
  const shift = { '': 0, B: 0, K: 10, M: 20, G: 30 }[match[2]!.toUpperCase() as '' | 'B' | 'K' | 'M' | 'G'];
  return Number(match[1]) * 2 ** shift;
}

export function sizeLabel(bytes: number): string {
  for (const [unit, shift] of [['GiB', 30], ['MiB', 20], ['KiB', 10]] as const) {
    if (bytes >= 2 ** shift && bytes % 2 ** shift === 0) return `${bytes / 2 ** shift} ${unit}`;
  }
  return `${bytes} B`;
}

function cell(timing: Timing): string {
  return timing.bytes < 1 << 20 ? `${(timing.seconds * 1e6).toFixed(0)} µs` : timing.gbPerSecond.toFixed(2);
}

/** Self-check: the four baselines on this machine's first adapter (lavapipe on CPU-only machines). */
async function main(): Promise<void> {
  const sizes = argument('--sizes', '1M,16M,64M,256M').split(',').map(parseSize);
  const repeats = Number(argument('--repeats', '5'));
  const dawn = await (import('webgpu') as Promise<unknown>) as DawnModule;
  Object.assign(globalThis, dawn.globals);
  // Held for the whole run: once the instance is garbage-collected Dawn stops delivering events.
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const { maxBufferSize, maxStorageBufferBindingSize } = adapter.limits;
  console.log(`adapter: ${adapter.info.description || adapter.info.architecture}; maxBufferSize ${maxBufferSize}, maxStorageBufferBindingSize ${maxStorageBufferBindingSize}`);
  const device = await adapter.requestDevice({ requiredLimits: { maxBufferSize: maxBufferSize!, maxStorageBufferBindingSize: maxStorageBufferBindingSize! } });
  const rows: string[][] = [];
  for (const bytes of sizes) {
    const timings = [
      await rawWriteBuffer(device, bytes, repeats),
      await rawWriteBuffer(device, bytes, repeats, { chunkBytes: Infinity }),
      await rawMapRead(device, bytes, repeats, { into: 'fresh' }),
      await rawMapRead(device, bytes, repeats, { into: 'reused' }),
    ];
    rows.push([sizeLabel(bytes), ...timings.map(cell)]);
  }
  device.destroy();
  // tfjs through tsgpu's registry, which registers a tfjs-backend-webgpu backend named gpu:0.
  // Required here, not imported at the top: the bench that imports the baselines brings its own.
  const { loadTfjs } = require('../../kernel/device/tfjs') as typeof import('../../kernel/device/tfjs');
  const { DeviceRegistry } = require('../../kernel/device/registry') as typeof import('../../kernel/device/registry');
  const { core } = await loadTfjs();
  await new DeviceRegistry(core).backend('gpu:0');
  for (const [index, bytes] of sizes.entries()) {
    rows[index]!.push(cell(await tfjsUpload(core, 'gpu:0', bytes, repeats)), cell(await tfjsReadback(core, 'gpu:0', bytes, repeats)));
  }
  const header = ['size', 'write 64M', 'write 1x', 'map fresh', 'map reused', 'tfjs up', 'tfjs data'];
  console.log(`GB/s (µs per move below 1 MiB, where latency is the figure), median of ${repeats} after one warm-up`);
  for (const row of [header, ...rows]) console.log(row.map((text, i) => (i === 0 ? text.padEnd(9) : text.padStart(11))).join(''));
  void gpu;
}

// `module` does not exist when this file is bundled as ESM for the GPU machine.
if (typeof module !== 'undefined' && require.main === module) {
  main().then(() => process.exit(0), (error: unknown) => {
    console.error(`transfer baselines failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exit(1);
  });
}
