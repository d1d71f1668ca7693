// Each device's tfjs backend, started on first use: a GPU's backend learns its limits, joins the
// transfer engine and gets its clock once, then answers every later move at once.
import type { BackendLike } from './engine-internals';
import type { Placement } from './placement';
import type { DeviceRegistry } from './registry';
import type { GpuTiming } from './timing/gpu-timing';
import type { TransferEngine } from './transfer/transfer-engine';
import { isWebGpuBackend } from './transfer/gpu-types';

export class ReadyBackends {
  private readonly ready = new Map<string, BackendLike>();
  private readonly starting = new Map<string, Promise<BackendLike>>();

  constructor(private readonly registry: DeviceRegistry, private readonly placement: Placement,
    private readonly transferEngine: TransferEngine, private readonly timing: GpuTiming) {}

  /** Initialises a device's backend and learns its limits. */
  async of(device: string): Promise<BackendLike> {
    // Ready backends answer at once: a 4-byte move must not pay for the registry's awaits.
    if (this.isReady(device)) return this.ready.get(device)!;
    // Two first uses at once wait for one start: the transfer engine, upload watch and clock attach once.
    let starting = this.starting.get(device);
    if (!starting) {
      starting = this.start(device);
      this.starting.set(device, starting);
      const forget = (): void => { this.starting.delete(device); };
      starting.then(forget, forget);
    }
    return starting;
  }

  private async start(device: string): Promise<BackendLike> {
    const backend = await this.registry.backend(device);
    if (isWebGpuBackend(backend)) {
      const limit = this.registry.bindingLimit(device);
      if (limit !== null) this.placement.bindingLimits.set(device, limit);
      this.transferEngine.attach(backend, { device, liveBytes: () => this.placement.live[device]?.bytes ?? 0 });
      this.placement.watchUploads(backend);
      await this.timing.attach(device, backend);
    }
    this.ready.set(device, backend);
    return backend;
  }

  /** Whether a device's backend is started and usable: a move to it sets nothing up. */
  isReady(device: string): boolean {
    return this.ready.has(device) && !this.registry.isLost(device);
  }

  /** The backends started so far, by device. */
  entries(): IterableIterator<[string, BackendLike]> {
    return this.ready.entries();
  }
}
