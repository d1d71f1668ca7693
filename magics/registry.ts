// The magics a cell can call, each with its help line. A magic gets what it may use through
// MagicContext (context.ts); it never sees the protocol.
import type { MagicContext } from './context';

export interface Magic {
  name: string;
  usage: string;
  help: string;
  /**
   * The words its first argument takes (`on`, `off`…), for completion after `%name `; the usage
   * line lists the same words. Device names are the device layer's, not listed here.
   */
  arguments?: readonly string[];
  /**
   * `%name args`: runs before the cell's code, or where it is written when that is between the
   * cell's top-level statements. Throws MagicError for bad arguments.
   */
  line?(args: string, context: MagicContext): void | Promise<void>;
  /** `%%name args` on the first line: runs the rest of the cell (`body`) its way; resolves with the cell's value. */
  cell?(args: string, body: string, context: MagicContext): Promise<unknown>;
}

/** What `%name?` prints and inspecting `%name` shows: the usage line, then the help. */
export function magicHelp(magic: Magic): string {
  return `${magic.usage}\n  ${magic.help}\n`;
}

export class MagicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MagicError';
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function commonPrefix(a: string, b: string): number {
  let length = 0;
  while (length < a.length && a[length] === b[length]) length++;
  return length;
}

export class MagicRegistry {
  private readonly magics = new Map<string, Magic>();

  register(magic: Magic): this {
    this.magics.set(magic.name, magic);
    return this;
  }

  get(name: string): Magic {
    const magic = this.magics.get(name);
    if (magic) return magic;
    const close = [...this.magics.keys()].filter((known) => editDistance(known, name) <= 2 || known.startsWith(name)
      || commonPrefix(known, name) >= 3);
    const suggestion = close.length > 0 ? ` Did you mean ${close.map((known) => `%${known}`).join(' or ')}?` : '';
    throw new MagicError(`unknown magic %${name}.${suggestion} %lsmagic lists them all.`);
  }

  list(): Magic[] {
    return [...this.magics.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
