import type { Magic, MagicRegistry } from './registry';

export function lsmagicMagic(registry: MagicRegistry): Magic {
  return {
    name: 'lsmagic',
    usage: '%lsmagic',
    help: 'lists the magics with their usage',
    line(_args, context) {
      const rows = registry.list().map((magic) => `  ${magic.usage}\n      ${magic.help}`);
      context.print(`Magics (also as //%name, so editors' TypeScript checkers stay quiet):\n${rows.join('\n')}\n`);
    },
  };
}
