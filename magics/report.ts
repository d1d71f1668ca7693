import { type Magic, MagicError } from './registry';

const MODES = ['off', 'compact', 'full'] as const;
/** `%report on`, said after `%report off`: back to the default, full. */
const ALIASES: Record<string, (typeof MODES)[number]> = { on: 'full' };

export const reportMagic: Magic = {
  name: 'report',
  usage: '%report [off|compact|full]  (on: full)',
  arguments: MODES,
  help: 'the device report after each cell that touched tensors: off, compact (table), full (table and timeline)',
  async line(args, context) {
    const devices = await context.devices();
    const mode = args.trim();
    if (mode === '') {
      context.print(`report: ${devices.report}\n`);
      return;
    }
    const chosen = ALIASES[mode] ?? mode;
    if (!(MODES as readonly string[]).includes(chosen)) throw new MagicError(`%report takes off, compact or full (on is full), not "${mode}"`);
    devices.report = chosen as (typeof MODES)[number];
    context.print(`report: ${chosen}\n`);
  },
};
