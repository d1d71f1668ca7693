import type { TypecheckMode } from './context';
import { type Magic, MagicError } from './registry';

const MODES: readonly TypecheckMode[] = ['on', 'warn', 'off'];
const STRICTNESS = ['strict', 'loose'] as const;

export const typecheckMagic: Magic = {
  name: 'typecheck',
  usage: '%typecheck [strict|loose|on|warn|off]',
  arguments: [...STRICTNESS, ...MODES],
  help: 'strict: the strict family of checks on; loose: off (the defaults without a tsconfig.json). '
    + 'on: a cell with type errors does not run; warn: errors go to stderr and the cell runs; off: transpile only. '
    + 'Alone: the options in force and where they came from.',
  line(args, context) {
    const word = args.trim();
    if (word === '') {
      context.print(context.describeTypecheck());
      return;
    }
    if ((STRICTNESS as readonly string[]).includes(word)) {
      context.setStrictness(word as (typeof STRICTNESS)[number]);
      // Strictness and checking are separate switches: after `%typecheck off` a user who asks for
      // strict checks would otherwise believe cells are checked again.
      const stillOff = context.typecheck === 'off' ? ' (type checking itself is still off: %typecheck on turns it back on)' : '';
      context.print(`typecheck ${word}: the strict family of checks is ${word === 'strict' ? 'on' : 'off'} from here on${stillOff}\n`);
      return;
    }
    if (!(MODES as readonly string[]).includes(word)) throw new MagicError(`%typecheck takes strict, loose, on, warn or off, not "${word}"`);
    context.typecheck = word as TypecheckMode;
    context.print(`typecheck ${word}\n`);
  },
};
