// %memory and %gc: what each device holds (live, pooled, staging, waiting for the garbage
// collector), collecting now, and the pressure at which the finalizer collects on its own.
import type { DeviceMemory, GarbageCollection } from './device-control';
import type { EngineLike, TensorLike } from './engine-internals';
import type { Placement } from './placement';
import type { ReadyBackends } from './ready-backends';
import type { DeviceRegistry } from './registry';
import type { TensorFinalizer } from './tensor-finalizer';
import { releasePooledBuffers } from './transfer/gpu-allocation';
import { isWebGpuBackend } from './transfer/gpu-types';
import type { TransferEngine } from './transfer/transfer-engine';

export class MemoryControl {
  constructor(private readonly engine: EngineLike, private readonly registry: DeviceRegistry, private readonly placement: Placement,
    private readonly finalizer: TensorFinalizer, private readonly transferEngine: TransferEngine, private readonly backends: ReadyBackends) {}

  memory(): DeviceMemory[] {
    const awaiting = new Map(this.finalizer.awaiting().map((entry) => [entry.device, entry]));
    return this.registry.list().map(({ name, kind }) => ({
      device: name,
      liveBytes: this.placement.live[name]?.bytes ?? 0,
      tensors: this.placement.live[name]?.buffers ?? 0,
      heldOnHostBytes: kind === 'gpu' ? this.placement.live[name]?.hostBytes ?? 0 : null,
      pooledBytes: this.registry.pooledBytes(name),
      stagingBytes: this.stagingBytes(name),
      awaitingGcBytes: awaiting.get(name)?.bytes ?? 0,
      gcPressureBytes: this.finalizer.pressureOf(name),
    }));
  }

  async collectGarbage(): Promise<GarbageCollection> {
    const collection = await this.finalizer.collectNow();
    // Pooled buffers go back to the devices once their queued work is done (as PyTorch's empty_cache).
    await this.registry.synchronize();
    const released: Record<string, number> = {};
    for (const [device, backend] of this.backends.entries()) {
      const bytes = isWebGpuBackend(backend) ? releasePooledBuffers(backend) : 0;
      if (bytes > 0) released[device] = bytes;
    }
    const variables = Object.values((this.engine.state as unknown as { registeredVariables: Record<string, TensorLike> }).registeredVariables)
      .filter((variable) => !variable.isDisposed);
    return { ...collection, released, variables: { count: variables.length, bytes: variables.reduce((sum, variable) => sum + this.placement.bytesOfData(variable.dataId), 0) } };
  }

  setGcPressure(device: string, bytes: number): void {
    this.finalizer.setPressure(device, bytes);
  }

  /** Host↔GPU staging buffers a GPU holds now (null for the host, or a GPU not started). */
  private stagingBytes(device: string): number | null {
    const backend = this.engine.registry[this.registry.backendName(device)];
    return backend && isWebGpuBackend(backend) ? this.transferEngine.stagingBytes(backend) : null;
  }
}
