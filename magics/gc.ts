import { formatBytes, parseBytes, textTable } from './format';
import { type Magic, MagicError } from './registry';

const USAGE = '%gc [pressure [DEVICE SIZE]]';

export const gcMagic: Magic = {
  name: 'gc',
  usage: USAGE,
  help: 'free now the tensors no code can reach (they are freed anyway once the kernel idles); '
    + '`%gc pressure` shows, and `%gc pressure gpu:0 512MiB` sets, the growth of live memory that collects at once',
  async line(args, context) {
    const devices = await context.devices();
    const [verb, device, ...size] = args.trim().split(/\s+/).filter((word) => word !== '');
    if (verb === undefined) {
      const { freed, reachable, ms } = await devices.collectGarbage();
      const rows = Object.entries(freed).map(([name, entry]) => [name, String(entry.tensors), formatBytes(entry.bytes)]);
      const summary = rows.length === 0 ? 'nothing to free: every tensor is still reachable' : textTable(['device', 'freed', 'bytes'], rows);
      context.print(`${summary}\n${reachable} tensor${reachable === 1 ? '' : 's'} still reachable; collection took ${ms.toFixed(0)} ms\n`);
      return;
    }
    if (verb !== 'pressure') throw new MagicError(`usage: ${USAGE}`);
    if (device !== undefined) {
      const bytes = parseBytes(size.join(''));
      if (bytes === null || bytes <= 0) {
        throw new MagicError(`%gc pressure ${device} takes a size such as 256MiB or 1GiB, not "${size.join(' ')}"`);
      }
      await devices.setGcPressure(device, bytes);
    }
    await devices.list();
    const rows = devices.memory().map((entry) => [entry.device, formatBytes(entry.gcPressureBytes)]);
    context.print(`${textTable(['device', 'collects at once after growing by'], rows)}\n`);
  },
};
