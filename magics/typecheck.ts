import type { TypecheckMode } from './context';
import { type Magic, MagicError } from './registry';

const MODES: readonly TypecheckMode[] = ['on', 'warn', 'off'];

export const typecheckMagic: Magic = {
  name: 'typecheck',
  usage: '%typecheck [on|warn|off]',
  arguments: MODES,
  help: 'on: a cell with type errors does not run; warn: errors go to stderr and the cell runs; off: transpile only.',
  line(args, context) {
    const mode = args.trim();
    if (mode === '') {
      context.print(`typecheck is ${context.typecheck}\n`);
      return;
    }
    if (!(MODES as readonly string[]).includes(mode)) throw new MagicError(`%typecheck takes on, warn or off, not "${mode}"`);
    context.typecheck = mode as TypecheckMode;
    context.print(`typecheck ${mode}\n`);
  },
};
