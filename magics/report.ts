import { type Magic, MagicError } from './registry';

const MODES = ['off', 'compact', 'full'] as const;

export const reportMagic: Magic = {
  name: 'report',
  usage: '%report [off|compact|full]',
  arguments: MODES,
  help: 'the device report after each cell that touched tensors: off, compact (table), full (table and timeline)',
  async line(args, context) {
    const devices = await context.devices();
    const mode = args.trim();
    if (mode === '') {
      context.print(`report: ${devices.report}\n`);
      return;
    }
    if (!(MODES as readonly string[]).includes(mode)) throw new MagicError(`%report takes off, compact or full, not "${mode}"`);
    devices.report = mode as (typeof MODES)[number];
    context.print(`report: ${mode}\n`);
  },
};
