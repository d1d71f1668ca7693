import { type Magic, MagicError } from './registry';

export const profileMagic: Magic = {
  name: 'profile',
  usage: '%profile [on|off]  |  %%profile',
  arguments: ['on', 'off'],
  help: 'per-op table after each cell (op, device, calls, host ms, GPU ms from the GPU clock, bytes in/out); %%profile for one cell',
  async line(args, context) {
    const devices = await context.devices();
    const mode = args.trim();
    if (mode === '') {
      context.print(`profile: ${devices.profile ? 'on' : 'off'}\n`);
      return;
    }
    if (mode !== 'on' && mode !== 'off') throw new MagicError(`%profile takes on or off, not "${mode}"`);
    devices.profile = mode === 'on';
    context.print(`profile: ${mode}\n`);
  },
  async cell(args, body, context) {
    if (args.trim() !== '') throw new MagicError(`%%profile takes no arguments, not "${args.trim()}"`);
    const devices = await context.devices();
    const before = devices.profile;
    devices.profile = true;
    try {
      return await context.run(body);
    } finally {
      // The table comes with the cell's report; ops the cell's promises run after it ends are not in it.
      devices.profile = before;
    }
  },
};
