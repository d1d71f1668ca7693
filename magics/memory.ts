import { formatBytes, textTable } from './format';
import type { Magic } from './registry';

export const memoryMagic: Magic = {
  name: 'memory',
  usage: '%memory',
  help: 'live tensor memory per device (and what a GPU backend keeps pooled)',
  async line(_args, context) {
    const devices = await context.devices();
    const rows = devices.memory().map((entry) => [
      entry.device, formatBytes(entry.liveBytes), String(entry.tensors), entry.pooledBytes === null ? '' : formatBytes(entry.pooledBytes),
    ]);
    context.print(`${textTable(['device', 'live', 'buffers', 'pooled'], rows)}\n`);
  },
};
