// %env: read and set the kernel process's environment, as IPython's %env does. Setting it here
// reaches what the kernel starts or loads afterwards (a backend reading a flag at first use).
import { type Magic, MagicError } from './registry';

const USAGE = '%env [NAME | NAME=VALUE | NAME VALUE]';
/** Notebooks are saved and shared with their outputs: like IPython, keep likely secrets out of the listing. */
const SECRET_PARTS = ['key', 'token', 'secret'];

function isLikelySecret(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_PARTS.some((part) => lower.includes(part));
}

/** Splits at whichever comes first, `=` or a space, so `%env ARGS a=b` sets ARGS to `a=b`. */
function splitAssignment(args: string): { name: string; value: string } | null {
  const separator = /[=\s]/.exec(args);
  if (!separator) return null;
  const name = args.slice(0, separator.index);
  let value = args.slice(separator.index + 1).trim();
  // `NAME = value`: the space came first, but the `=` is still the separator, not part of the value.
  if (separator[0] !== '=' && value.startsWith('=')) value = value.slice(1).trim();
  return { name, value };
}

export const envMagic: Magic = {
  name: 'env',
  usage: USAGE,
  help: 'lists the environment (likely secrets hidden), shows one variable, or sets one',
  line(args, context) {
    const text = args.trim();
    if (text === '') {
      const lines = Object.keys(process.env).sort()
        .map((name) => `${name}=${isLikelySecret(name) ? '<hidden>' : process.env[name] ?? ''}`);
      context.print(lines.length > 0 ? `${lines.join('\n')}\n` : '');
      return;
    }
    const assignment = splitAssignment(text);
    if (!assignment) {
      const value = process.env[text];
      if (value === undefined) throw new MagicError(`${text} is not set`);
      context.print(`${value}\n`);
      return;
    }
    const { name, value } = assignment;
    if (name === '') throw new MagicError(`%env needs a variable name before the value; usage: ${USAGE}`);
    process.env[name] = value;
    context.print(`env: ${name}=${value}\n`);
  },
};
