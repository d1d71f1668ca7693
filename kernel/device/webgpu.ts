// GPUs through Dawn (npm `webgpu`): finding the adapters and turning one into a tfjs backend.
// Only the few WebGPU members used here are typed, locally: tfjs and `webgpu` ship two
// conflicting copies of the WebGPU type declarations.
import { paceGpuWaits } from './gpu-wait-pacing';
import { duplicateCount, withDuplicates } from './duplicate-gpu';
import type { TfCoreModule } from './tfjs';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
}

interface GpuDeviceLike {
  readonly limits: Record<string, number>;
  readonly queue: { onSubmittedWorkDone(): Promise<void> };
  readonly lost: Promise<{ reason: string; message: string }>;
  onuncapturederror: ((event: { error: { message: string } }) => void) | null;
  destroy(): void;
}

interface GpuAdapterLike {
  readonly info: AdapterInfo;
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, number>;
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<GpuDeviceLike>;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

interface DawnModule {
  create(options: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/** A GPU found on this machine, not yet initialised. */
export interface GpuCandidate {
  /** Dawn's backend and adapter name, which open this same adapter again. */
  backend: string;
  adapterName: string;
  info: AdapterInfo;
  software: boolean;
  open(): Promise<OpenedAdapter>;
  /** Set on the extra devices TSGPU_GPU_DUPLICATE opens: the index of the GPU they open again. */
  duplicateOf?: number;
}

/**
 * An adapter and the Dawn instance it came from. The instance must stay referenced as long as
 * its devices live: once garbage-collected, Dawn stops delivering their events, and a pending
 * GPU readback hangs, or aborts the process ("std::system_error: Invalid argument").
 */
export interface OpenedAdapter {
  instance: GpuLike;
  adapter: GpuAdapterLike;
}

export interface Discovery {
  gpus: GpuCandidate[];
  /** Why there is no GPU, and how to get one; null when GPUs were found. */
  problem: string | null;
  /** A bad TSGPU_GPU_DUPLICATE: the GPUs are listed as found, and the message says what to write. */
  settingError?: string;
}

let dawn: Promise<DawnModule> | null = null;

/** `webgpu` is ESM-only; importing it also gives the GPU* globals tfjs-backend-webgpu expects. */
function loadDawn(): Promise<DawnModule> {
  paceGpuWaits();
  dawn ??= (import('webgpu') as Promise<unknown>).then((module) => {
    const loaded = module as DawnModule;
    Object.assign(globalThis, loaded.globals);
    return loaded;
  });
  return dawn;
}

/** lavapipe and SwiftShader emulate a GPU on the CPU. */
function isSoftware(info: AdapterInfo): boolean {
  return info.architecture === 'software' || info.isFallbackAdapter === true
    || /llvmpipe|lavapipe|swiftshader/i.test(`${info.description} ${info.device}`);
}

const NO_VULKAN = 'no Vulkan driver was found, so there is no gpu:N. On Debian/Ubuntu: apt-get install libvulkan1 plus your GPU\'s driver '
  + '(NVIDIA, AMD, Intel), or Mesa\'s software GPU: apt-get install -t bookworm-backports mesa-vulkan-drivers. cpu keeps working.';

export async function discoverGpus(): Promise<Discovery> {
  let module: DawnModule;
  try {
    module = await loadDawn();
  } catch (error) {
    return { gpus: [], problem: `WebGPU (Dawn, npm webgpu) could not load: ${(error as Error).message}. cpu keeps working.` };
  }
  // WebGPU hands out one adapter per request; Dawn names them all when asked for one that does not exist.
  let names: [string, string][] = [];
  try {
    await module.create(['adapter=\u0000none']).requestAdapter();
  } catch (error) {
    names = [...String((error as Error).message).matchAll(/\* backend: '([^']+)', name: '([^']+)'/g)]
      .map((match) => [match[1]!, match[2]!] as [string, string])
      .filter(([backend]) => backend !== 'null' && !backend.startsWith('opengl'));
  }
  const gpus: GpuCandidate[] = [];
  for (const [backend, adapterName] of names) {
    const open = async (): Promise<OpenedAdapter> => {
      // Dawn rounds timestamps to 65.5 µs by default (a browser's defence against timing attacks,
      // nothing to defend here): per-op GPU times need the GPU's own resolution.
      const instance = module.create([`adapter=${adapterName}`, `backend=${backend}`, 'disable-dawn-features=timestamp_quantization']);
      const adapter = await instance.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error(`the GPU "${adapterName}" (${backend}) is no longer available`);
      return { instance, adapter };
    };
    try {
      const { adapter } = await open();
      gpus.push({ backend, adapterName, info: adapter.info, software: isSoftware(adapter.info), open });
    } catch {
      // listed but not usable (a driver without the features Dawn needs): not a device
    }
  }
  if (gpus.length === 0) {
    // Older Dawn builds do not list adapters: the default one is still worth a try.
    const instance = module.create([]);
    const adapter = await instance.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
    if (adapter) {
      const open = async (): Promise<OpenedAdapter> => ({ instance, adapter });
      gpus.push({ backend: 'default', adapterName: adapter.info.description, info: adapter.info, software: isSoftware(adapter.info), open });
    }
  }
  // Hardware GPUs come first, so gpu:0 is the real one where there is one.
  gpus.sort((a, b) => Number(a.software) - Number(b.software));
  let count: number;
  try {
    count = duplicateCount();
  } catch (error) {
    return { gpus, problem: null, settingError: (error as Error).message };
  }
  return { gpus: withDuplicates(gpus, count), problem: gpus.length === 0 ? NO_VULKAN : null };
}

export interface GpuBackendHandle {
  backend: object;
  device: GpuDeviceLike;
  /** Held for the device's lifetime (see OpenedAdapter). */
  opened: OpenedAdapter;
  /** Validation and out-of-memory errors Dawn reported since the last call. */
  takeErrors(): string[];
}

/**
 * TSGPU_GPU_MAX_BUFFER_SIZE (bytes) asks Dawn for a smaller largest buffer than the adapter allows,
 * as a smaller GPU would have: Dawn then refuses bigger buffers itself. Tests use it to reach the
 * limit with tensors a host can hold (lavapipe allows 4 GiB). WebGPU never grants less than its
 * defaults (256 MiB, 128 MiB per binding): a smaller request gets those.
 */
function capBufferSize(limits: Record<string, number>): void {
  const cap = Number(process.env['TSGPU_GPU_MAX_BUFFER_SIZE']);
  if (!Number.isInteger(cap) || cap <= 0) return;
  for (const key of ['maxBufferSize', 'maxStorageBufferBindingSize']) {
    if (limits[key] !== undefined) limits[key] = Math.min(limits[key]!, cap);
  }
}

/** Registers tfjs-backend-webgpu's kernels under `name` and returns a backend on `candidate`'s adapter. */
export async function createGpuBackend(tf: TfCoreModule, name: string, candidate: GpuCandidate): Promise<GpuBackendHandle> {
  await loadDawn();
  // Loaded while navigator.gpu is unset, so it does not register a competing 'webgpu' backend.
  const { WebGPUBackend } = require('@tensorflow/tfjs-backend-webgpu') as { WebGPUBackend: new (device: unknown, info: unknown) => object };
  for (const kernel of tf.getKernelsForBackend('webgpu')) tf.registerKernel({ ...kernel, backendName: name });
  const opened = await candidate.open();
  const { adapter } = opened;
  const limits = adapter.limits;
  const wanted = ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize',
    'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup'];
  const requiredLimits = Object.fromEntries(wanted.filter((key) => typeof limits[key] === 'number').map((key) => [key, limits[key]!]));
  capBufferSize(requiredLimits);
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits,
  });
  const errors: string[] = [];
  device.onuncapturederror = (event) => errors.push(event.error.message);
  // The backend's constructor checks navigator.gpu; it is not needed afterwards.
  const global = globalThis as { navigator?: { gpu?: unknown } };
  global.navigator ??= {};
  global.navigator.gpu = { requestAdapter: async () => adapter };
  let backend: object;
  try {
    backend = new WebGPUBackend(device, adapter.info);
  } finally {
    delete global.navigator.gpu;
  }
  return { backend, device, opened, takeErrors: () => errors.splice(0) };
}
