import { formatBytes, textTable } from './format';
import { type Magic, MagicError } from './registry';

export const memoryMagic: Magic = {
  name: 'memory',
  usage: '%memory',
  help: 'live tensor memory per device, what of it awaits the garbage collector (%gc frees it now), what a GPU backend keeps pooled, '
    + 'the staging buffers moves use (bounded), and the GPU tensors tfjs keeps in host arrays',
  async line(args, context) {
    if (args.trim() !== '') throw new MagicError(`%memory takes no arguments (it shows every device), not "${args.trim()}"`);
    const devices = await context.devices();
    const rows = devices.memory().map((entry) => [
      entry.device, formatBytes(entry.liveBytes), String(entry.tensors), entry.pooledBytes === null ? '' : formatBytes(entry.pooledBytes),
      entry.stagingBytes === null ? '' : formatBytes(entry.stagingBytes), formatBytes(entry.awaitingGcBytes),
      entry.heldOnHostBytes === null ? '' : formatBytes(entry.heldOnHostBytes),
    ]);
    const onHost = devices.memory().some((entry) => (entry.heldOnHostBytes ?? 0) > 0);
    context.print(`${textTable(['device', 'live', 'buffers', 'pooled', 'staging', 'awaiting GC', 'host arrays'], rows)}\n`
      + 'awaiting GC: tensors made since the last collection, which frees those no code reaches (%gc collects now)\n'
      + (onHost ? "host arrays: a GPU's tensors whose values tfjs keeps on the host (made from host values and not used by a GPU op yet, "
        + 'or results of small ops it ran on the CPU): host memory, not in live; uploaded when a GPU op first uses them\n' : ''));
  },
};
