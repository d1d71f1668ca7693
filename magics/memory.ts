import { formatBytes, textTable } from './format';
import { type Magic, MagicError } from './registry';

export const memoryMagic: Magic = {
  name: 'memory',
  usage: '%memory',
  help: 'live tensor memory per device, what of it awaits the garbage collector (%gc frees it now), what a GPU backend keeps pooled, and the staging buffers moves use (bounded)',
  async line(args, context) {
    if (args.trim() !== '') throw new MagicError(`%memory takes no arguments (it shows every device), not "${args.trim()}"`);
    const devices = await context.devices();
    const rows = devices.memory().map((entry) => [
      entry.device, formatBytes(entry.liveBytes), String(entry.tensors), entry.pooledBytes === null ? '' : formatBytes(entry.pooledBytes),
      entry.stagingBytes === null ? '' : formatBytes(entry.stagingBytes), formatBytes(entry.awaitingGcBytes),
    ]);
    context.print(`${textTable(['device', 'live', 'buffers', 'pooled', 'staging', 'awaiting GC'], rows)}\n`
      + 'awaiting GC: tensors made since the last collection, which frees those no code reaches (%gc collects now)\n');
  },
};
