import { type Magic, MagicError } from './registry';

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
    const info = (await devices.list()).find((device) => device.name === chosen);
    context.print(`device ${chosen}${info?.software ? ' (software GPU: its timings are not a GPU\'s)' : ''}\n`);
  },
  async cell(args, body, context) {
    const devices = await context.devices();
    if (args.trim() === '') throw new MagicError('%%device needs a device name, e.g. %%device gpu:0');
    return devices.withDevice(args.trim(), () => context.run(body));
  },
};
