import { formatBytes, parseBytes, textTable } from './format';
import { type Magic, MagicError } from './registry';

const USAGE = '%gc [pressure [DEVICE [SIZE|off]]]';

export const gcMagic: Magic = {
  name: 'gc',
  usage: USAGE,
  arguments: ['pressure'],
  help: 'free now the tensors no code can reach (they are freed anyway once the kernel idles) and give the GPUs back '
    + 'their pooled buffers; `%gc pressure` shows, `%gc pressure gpu:0 512MiB` sets (`off` turns off), the growth of live memory that collects at once',
  async line(args, context) {
    const devices = await context.devices();
    const [verb, device, ...size] = args.trim().split(/\s+/).filter((word) => word !== '');
    if (verb === undefined) {
      const { freed, reachable, ms, released, variables } = await devices.collectGarbage();
      const rows = Object.entries(freed).map(([name, entry]) => [name, String(entry.tensors), formatBytes(entry.bytes)]);
      const lines = [rows.length === 0 ? 'nothing to free: every tensor is still reachable' : textTable(['device', 'freed', 'bytes'], rows)];
      for (const [name, bytes] of Object.entries(released)) lines.push(`${name}: gave back ${formatBytes(bytes)} of pooled buffers`);
      lines.push(`${reachable} tensor${reachable === 1 ? '' : 's'} still reachable; collection took ${ms.toFixed(0)} ms`);
      if (variables.count > 0) {
        lines.push(`${variables.count} variable${variables.count === 1 ? '' : 's'} (model weights, optimizer state: ${formatBytes(variables.bytes)}) `
          + 'are freed only by dispose(): model.dispose() for a model you no longer need');
      }
      context.print(`${lines.join('\n')}\n`);
      return;
    }
    if (verb !== 'pressure') throw new MagicError(`usage: ${USAGE}`);
    await devices.list();
    if (device !== undefined && size.length > 0) {
      const text = size.join('');
      const bytes = text === 'off' ? Infinity : parseBytes(text);
      if (bytes === null || bytes <= 0) {
        throw new MagicError(`%gc pressure ${device} takes a size such as 256MiB or 1GiB (or off), not "${size.join(' ')}"`);
      }
      await devices.setGcPressure(device, bytes);
    }
    const shown = device === undefined ? null : await devices.resolve(device);
    const rows = devices.memory().filter((entry) => shown === null || entry.device === shown)
      .map((entry) => [entry.device, Number.isFinite(entry.gcPressureBytes) ? formatBytes(entry.gcPressureBytes) : 'off']);
    context.print(`${textTable(['device', 'collects at once after growing by'], rows)}\n`);
  },
};
