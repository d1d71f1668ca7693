// The devices a notebook can name: `cpu` (tfjs-backend-wasm) and `gpu:N` (WebGPU through Dawn),
// their aliases, and their backends, each initialised on first use.
import type { DeviceInfo } from './device-control';
import { DUPLICATE_SETTING } from './duplicate-gpu';
import type { BackendLike } from './engine-internals';
import type { TfCoreModule } from './tfjs';
import { createGpuBackend, discoverGpus, type Discovery, type GpuBackendHandle } from './webgpu';
import { installDirectConvolutions } from './train/conv-gpu';
import { installDirectMatMuls } from './train/matmul-gpu';

/** Whether two words differ by one letter added, dropped, changed, or two neighbours swapped (cdua, gpuu). */
function oneEditApart(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** Other frameworks' words for the GPU, and typos of ours: each means gpu (cuda means gpu too). */
const GPU_WORDS = ['gpu', 'cuda', 'mps', 'metal', 'webgpu', 'vulkan', 'nvidia', 'device'];

/**
 * The device a near miss most likely meant: quoted (`%device 'gpu:0'`, where magics take the bare
 * name), without the colon (gpu0, cuda_1, gpu-0), with the letter O for a zero, another
 * framework's word for the GPU (mps, webgpu:0), a typo (cdua), or cpu with an index. Null where
 * nothing is near.
 */
function nearDeviceName(wanted: string): string | null {
  const bare = wanted.replace(/^['"`]+|['"`;]+$/g, '').trim();
  const parts = /^([a-z]+)\s*[-_.:\s]?\s*([\do]*)$/.exec(bare);
  if (parts === null) return null;
  const [, word = '', digits = ''] = parts;
  const index = digits === '' ? 0 : Number(digits.replace(/o/g, '0'));
  // A typo keeps the first letter: tpu and xpu are other devices, not gpu.
  const typoOf = (name: string): boolean => word[0] === name[0] && oneEditApart(word, name);
  if (word === 'cpu' || typoOf('cpu')) return 'cpu';
  if (GPU_WORDS.includes(word) || typoOf('cuda') || typoOf('gpu')) return `gpu:${index}`;
  return null;
}

export class DeviceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

interface EngineRegistry {
  registry: Record<string, BackendLike>;
  initializeBackend(name: string): { success: boolean | Promise<boolean>; asyncInit: boolean };
}

/**
 * dataSync(), arraySync() and print() read synchronously, which WebGPU in Node cannot do: tfjs
 * would fail with "OffscreenCanvas is not defined". Say instead what to await.
 */
function refuseSyncReads(backend: BackendLike, device: string): void {
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId) => {
    const data = backend.tensorMap?.get(dataId);
    if (data && data.values == null && data.dtype !== 'string' && data.complexTensorInfos == null) {
      throw new DeviceError(`this tensor is on ${device}, and reading a GPU synchronously (dataSync(), arraySync(), print()) `
        + 'is not possible in Node: use await x.data() / await x.array() for its values, or await x.cpu() to bring it to the host.');
    }
    return readSync(dataId);
  };
}

export class DeviceRegistry {
  private discovery: Discovery | null = null;
  private discovering: Promise<Discovery> | null = null;
  private readonly gpus = new Map<string, Promise<GpuBackendHandle>>();
  private readonly lost = new Set<string>();
  private readonly limits = new Map<string, number>();

  constructor(private readonly tf: TfCoreModule) {}

  /** Looks for GPUs once (Dawn's first adapter request takes ~0.2 s). */
  discover(): Promise<Discovery> {
    this.discovering ??= discoverGpus().then((found) => {
      this.discovery = found;
      return found;
    });
    return this.discovering;
  }

  /** True once GPUs were looked for: names resolve without waiting. */
  get discovered(): boolean {
    return this.discovery !== null;
  }

  isLost(device: string): boolean {
    return this.lost.has(device);
  }

  problems(): string[] {
    return [this.discovery?.problem, this.discovery?.settingError].filter((problem): problem is string => typeof problem === 'string');
  }

  names(): string[] {
    return ['cpu', ...(this.discovery?.gpus ?? []).map((_gpu, index) => `gpu:${index}`)];
  }

  list(): DeviceInfo[] {
    const cpu: DeviceInfo = { name: 'cpu', kind: 'cpu', description: 'tfjs-backend-wasm (SIMD); tfjs-backend-cpu for kernels wasm lacks', software: false, state: 'ready' };
    return [cpu, ...(this.discovery?.gpus ?? []).map((gpu, index): DeviceInfo => {
      const name = `gpu:${index}`;
      const what = gpu.info.description || `${gpu.info.vendor} ${gpu.info.device}`.trim() || gpu.adapterName;
      const again = gpu.duplicateOf === undefined ? '' : `, gpu:${gpu.duplicateOf}'s adapter opened again as a device of its own (${DUPLICATE_SETTING})`;
      return {
        name,
        kind: 'gpu',
        description: `WebGPU (${gpu.backend}): ${what}${again}`,
        software: gpu.software,
        state: this.lost.has(name) ? 'lost' : this.gpus.has(name) ? 'ready' : 'available',
      };
    })];
  }

  /** 'gpu:0' where a hardware GPU exists, else 'cpu' (a software GPU is slower than wasm). */
  best(): string {
    const gpus = this.discovery?.gpus ?? [];
    return gpus.length > 0 && !gpus[0]!.software ? 'gpu:0' : 'cpu';
  }

  /** Canonical name for what a user wrote: `gpu` and `cuda` mean gpu:0, `cuda:N` means gpu:N. */
  resolve(name: string): string {
    // A torch.device-like object ({ type: 'cuda', index: 0 }) from code that type checking did not stop.
    if (typeof name !== 'string') {
      throw new DeviceError(`a device is named by a string ('cpu', 'gpu:0', or the aliases 'cuda', 'cuda:N'), not ${typeof name === 'object' ? 'an object' : typeof name}: `
        + "e.g. await x.to('gpu:0').");
    }
    const wanted = name.trim().toLowerCase();
    const canonical = wanted === 'auto' ? this.best()
      : wanted === 'gpu' || wanted === 'cuda' ? 'gpu:0'
        : wanted.replace(/^cuda:/, 'gpu:');
    if (this.names().includes(canonical)) return canonical;
    const known = this.names().join(', ');
    const why = canonical.startsWith('gpu') && this.problems().length > 0 ? ` (${this.problems()[0]})` : '';
    const near = nearDeviceName(wanted);
    const meant = near !== null && this.names().includes(near) ? ` (did you mean ${near}?)` : '';
    throw new DeviceError(`no device "${name}"${meant}: the devices here are ${known}${why}. `
      + 'Names: cpu, gpu:N, or auto for the best one; gpu, cuda and cuda:N are accepted aliases of gpu:0 and gpu:N.');
  }

  /** The tfjs backend registry name for a canonical device name. */
  backendName(device: string): string {
    return device === 'cpu' ? 'wasm' : device;
  }

  /** Initialises the device's backend (once) and returns it. */
  async backend(device: string): Promise<BackendLike> {
    const engine = this.tf.engine() as unknown as EngineRegistry;
    if (device === 'cpu') return engine.registry['wasm']!;
    if (this.lost.has(device)) throw new DeviceError(`${device} was lost (driver reset or device removed); its tensors are gone. Restart the kernel to use it again.`);
    let handle = this.gpus.get(device);
    if (!handle) {
      // Filed before the first await: two first uses at once (moves in one Promise.all) share one
      // backend. Each made its own before, and tfjs warned 163 times that kernels were registered twice.
      handle = this.discover().then((discovery) => {
        const candidate = discovery.gpus[Number(device.slice('gpu:'.length))];
        if (!candidate) throw new DeviceError(`no device "${device}"`);
        return createGpuBackend(this.tf, device, candidate).then((created) => {
          // model.trainStep's own convolutions and small products, measured faster on a software GPU only (train/conv-gpu.ts, train/matmul-gpu.ts).
          if (candidate.software) {
            installDirectConvolutions(this.tf, device);
            installDirectMatMuls(this.tf, device);
          }
          return created;
        });
      }).then((created) => {
        refuseSyncReads(created.backend as BackendLike, device);
        const limit = created.device.limits['maxStorageBufferBindingSize'];
        if (typeof limit === 'number') this.limits.set(device, limit);
        this.tf.registerBackend(device, () => created.backend as never, 0);
        void created.device.lost.then((info) => {
          if (info.reason !== 'destroyed') this.lost.add(device);
        });
        return created;
      });
      this.gpus.set(device, handle);
      handle.catch(() => this.gpus.delete(device));
    }
    await handle;
    const { success } = engine.initializeBackend(device);
    if (!(await success)) throw new DeviceError(`${device} could not be initialised`);
    return engine.registry[device]!;
  }

  /** The largest buffer one op may bind on an initialised GPU. */
  bindingLimit(device: string): number | null {
    return this.limits.get(device) ?? null;
  }

  /** Errors the GPUs reported asynchronously (validation, out of memory) since last asked. */
  async takeGpuErrors(): Promise<{ device: string; message: string }[]> {
    const errors: { device: string; message: string }[] = [];
    for (const [device, handle] of this.gpus) {
      const ready = await handle.catch(() => null);
      for (const message of ready?.takeErrors() ?? []) errors.push({ device, message });
    }
    return errors;
  }

  /** Waits until every initialised GPU has finished its queued work. */
  async synchronize(): Promise<void> {
    for (const handle of this.gpus.values()) {
      const ready = await handle.catch(() => null);
      if (!ready) continue;
      const backend = ready.backend as BackendLike;
      // tfjs batches dispatches before submitting them: submit, then wait for the queue.
      if (backend.commandEncoder) {
        backend.endComputePassEncoder?.();
        backend.submitQueue?.();
      }
      await ready.device.queue.onSubmittedWorkDone();
    }
  }

  /** GPU memory the backend's pool holds (tfjs never frees pooled buffers by itself). */
  pooledBytes(device: string): number | null {
    if (device === 'cpu') return null;
    const backend = (this.tf.engine() as unknown as EngineRegistry).registry[device];
    const memory = backend?.memory();
    return memory?.numBytesAllocatedInGPU !== undefined ? memory.numBytesAllocatedInGPU - (memory.numBytesInGPU ?? 0) : null;
  }
}
