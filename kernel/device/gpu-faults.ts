// Faults a GPU reports asynchronously (out of memory, validation errors, a lost device), turned
// into the cell's error once each: a device lost stays lost, and is announced once.
import type { DeviceRegistry } from './registry';

export class GpuFaults {
  private readonly reportedLost = new Set<string>();

  constructor(private readonly registry: DeviceRegistry) {}

  async take(): Promise<string | null> {
    const errors = await this.registry.takeGpuErrors();
    const lost = this.registry.list().filter((device) => device.state === 'lost').map((device) => device.name);
    const newlyLost = lost.filter((device) => !this.reportedLost.has(device));
    for (const device of newlyLost) this.reportedLost.add(device);
    if (errors.length === 0 && newlyLost.length === 0) return null;
    const parts = errors.slice(0, 3).map((error) => `${error.device} reported: ${error.message.split('\n')[0]}`);
    if (errors.length > 3) parts.push(`and ${errors.length - 3} more`);
    for (const device of newlyLost) parts.push(`${device} was lost (driver reset or device removed); its tensors are gone, other devices and variables are fine`);
    const memory = errors.some((error) => /memory/i.test(error.message));
    return `${parts.join('; ')}. This cell's GPU results may be wrong (zeros).${memory ? ' Out of GPU memory: dispose tensors you no longer need (x.dispose(), tf.tidy), or use smaller batches.' : ''} %devices shows each device's state.`;
  }
}
