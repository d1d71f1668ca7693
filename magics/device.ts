import type { DeviceInfo } from '../kernel/device/device-control';
import { type Magic, MagicError } from './registry';

/** The adapter's own name in a GPU's description: `llvmpipe` in "WebGPU (vulkan): llvmpipe: Mesa 25.0.7…". */
function adapterName(description: string): string {
  const adapter = description.replace(/^WebGPU \([^)]*\):\s*/, '');
  return adapter.split(':')[0]!.trim() || adapter;
}

/** Why `auto` chose what it chose: the GPUs it passed over, or that there are none. */
function autoReason(chosen: string, list: readonly DeviceInfo[], problems: readonly string[]): string {
  const chosenInfo = list.find((device) => device.name === chosen);
  if (chosenInfo?.kind === 'gpu') return `auto: the first hardware GPU, ${adapterName(chosenInfo.description)}`;
  const software = list.filter((device) => device.kind === 'gpu' && device.software);
  if (software.length > 0) {
    const [first] = software;
    const what = software.length === 1 ? 'a software GPU' : 'software GPUs';
    return `auto skipped ${software.map((gpu) => `${gpu.name} (${adapterName(gpu.description)})`).join(', ')}, ${what}: `
      + `slower than the CPU backend for tensor work; \`%device ${first!.name}\` to use it anyway`;
  }
  return `auto: no GPU found${problems.length > 0 ? `: ${problems[0]}` : ''}`;
}

/** `%device [NAME|auto]` and `%%device NAME` (this cell only). */
export const deviceMagic: Magic = {
  name: 'device',
  usage: '%device [NAME|auto] / %%device NAME',
  help: 'the current device (where new tensors and models are made); %%device runs one cell on NAME',
  async line(args, context) {
    const devices = await context.devices();
    const wanted = args.trim();
    if (wanted === '') {
      const current = (await devices.list()).find((device) => device.name === devices.current());
      context.print(`current device: ${devices.current()}${current?.software ? ' (software GPU)' : ''}\n`);
      return;
    }
    const chosen = await devices.setCurrent(wanted);
    const list = await devices.list();
    const info = list.find((device) => device.name === chosen);
    const why = wanted.toLowerCase() === 'auto' ? autoReason(chosen, list, devices.problems())
      : info?.software ? 'software GPU: its timings are not a GPU\'s' : '';
    context.print(`device ${chosen}${why ? ` (${why})` : ''}\n`);
  },
  async cell(args, body, context) {
    const devices = await context.devices();
    if (args.trim() === '') throw new MagicError('%%device needs a device name, e.g. %%device gpu:0');
    return devices.withDevice(args.trim(), () => context.run(body));
  },
};
