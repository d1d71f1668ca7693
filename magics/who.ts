// %who: the names cells declared, as IPython lists them. A type filter matches `typeof` or a
// class name anywhere on the prototype chain, so `%who Tensor` also lists Variables (a subclass),
// where IPython would match the exact type only: JavaScript code asks "is it a Tensor?" that way.
import { type Magic } from './registry';

/** IPython breaks the list after every nine names. */
const NAMES_PER_LINE = 9;

function classNames(value: unknown): string[] {
  const names: string[] = [];
  if (value === null || value === undefined) return names;
  try {
    for (let prototype: unknown = Object.getPrototypeOf(value); prototype !== null && prototype !== undefined;
      prototype = Object.getPrototypeOf(prototype)) {
      // The descriptor, not `.constructor`: a user's getter must not run just because %who looked.
      const constructor: unknown = Object.getOwnPropertyDescriptor(prototype, 'constructor')?.value;
      if (typeof constructor === 'function' && constructor.name !== '') names.push(constructor.name);
    }
  } catch {
    // A Proxy's getPrototypeOf trap may throw; what was found so far still classifies the value.
  }
  return names;
}

function matches(value: unknown, types: ReadonlySet<string>): boolean {
  if (types.has(typeof value) || (value === null && types.has('null'))) return true;
  return classNames(value).some((name) => types.has(name));
}

export const whoMagic: Magic = {
  name: 'who',
  usage: '%who [TYPE ...]',
  help: 'lists the names cells declared; TYPE filters by typeof (number, function, …) or class (Tensor, Map, …)',
  line(args, context) {
    const types = new Set(args.split(/\s+/).filter((type) => type !== ''));
    const names = context.userNames()
      .filter(({ value }) => types.size === 0 || matches(value, types))
      .map(({ name }) => name)
      .sort();
    if (names.length === 0) {
      context.print(types.size > 0 ? 'No variables match your requested type.\n' : 'Interactive namespace is empty.\n');
      return;
    }
    const lines: string[] = [];
    for (let i = 0; i < names.length; i += NAMES_PER_LINE) {
      lines.push(names.slice(i, i + NAMES_PER_LINE).map((name) => `${name}\t`).join(' '));
    }
    context.print(`${lines.join('\n')}\n`);
  },
};
