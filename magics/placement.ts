import { type Magic, MagicError } from './registry';

export const placementMagic: Magic = {
  name: 'placement',
  usage: '%placement [on|off]',
  arguments: ['on', 'off'],
  help: 'after each cell, list its ops with the device each ran on (summarised: a loop\'s repeats are one line)',
  async line(args, context) {
    const devices = await context.devices();
    const setting = args.trim();
    if (setting === '') {
      context.print(`placement log: ${devices.placementLog ? 'on' : 'off'}\n`);
      return;
    }
    if (setting !== 'on' && setting !== 'off') throw new MagicError(`%placement takes on or off, not "${setting}"`);
    devices.placementLog = setting === 'on';
    context.print(`placement log: ${setting}\n`);
  },
};
