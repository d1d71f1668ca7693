// Completion of the kernel's own words, which the TypeScript language service does not know:
// magic names after `%`, `%%` and `//%`, the words a magic's argument takes (`%typecheck o`,
// declared by each magic in magics/), and device names where a device is named (`%device `,
// `%%device `, `.to('`, `withDevice('`, `device('`). Positions are UTF-16 indexes into the cell.
import type { Magic } from '../../../magics/registry';

export interface KernelWords {
  magics: readonly Magic[];
  /** Canonical device names (cpu, gpu:0, …), from the device layer. */
  deviceNames(): Promise<string[]>;
}

export interface WordCompletion {
  matches: string[];
  /** Where the replaced text starts (UTF-16 index into the cell). */
  start: number;
  /** `magic` or `device`, for the client's completion type. */
  type: string;
}

/** `%dev`, `%%ti`, `//%dev` at the start of a line: the marks and the name typed so far. */
const MAGIC_NAME = /^\s*(?:\/\/)?(%%?)([\w-]*)$/;
/** `%device gp`, `%%device `: the magic and the device name typed so far. */
const DEVICE_MAGIC_ARGUMENT = /^\s*(?:\/\/)?(%%?)device\s+([\w:]*)$/;
/** `%typecheck o`, `%report `: a line magic and its first argument typed so far. */
const MAGIC_ARGUMENT = /^\s*(?:\/\/)?%([\w-]+)\s+([\w-]*)$/;
/** An open string that names a device: `.to('`, `withDevice("`, `device(`. */
const DEVICE_STRING = /(?:\.to|\bwithDevice|\bdevice)\(\s*['"`]([\w:]*)$/;

function startingWith(prefix: string, words: readonly string[]): string[] {
  return words.filter((word) => word.startsWith(prefix));
}

/** The magic whose name the cursor is on or right after (`%device|`, `%%ti|me`), for inspection. */
export function magicAt(cell: string, cursor: number, magics: readonly Magic[]): Magic | null {
  const lineStart = cell.lastIndexOf('\n', cursor - 1) + 1;
  const lineEnd = cell.indexOf('\n', cursor);
  const line = cell.slice(lineStart, lineEnd === -1 ? cell.length : lineEnd);
  const name = /^\s*(?:\/\/)?%%?([\w-]+)/.exec(line);
  if (!name || cursor - lineStart > name[0].length) return null;
  return magics.find((known) => known.name === name[1]) ?? null;
}

/** What to offer at `cursor`, or null where the language service should answer. */
export async function completeKernelWord(cell: string, cursor: number, words: KernelWords): Promise<WordCompletion | null> {
  const lineStart = cell.lastIndexOf('\n', cursor - 1) + 1;
  const before = cell.slice(lineStart, cursor);
  const magic = MAGIC_NAME.exec(before);
  if (magic) {
    const [, marks = '%', typed = ''] = magic;
    const fits = words.magics.filter((known) => (marks === '%%' ? known.cell : known.line) !== undefined);
    return { matches: startingWith(typed, fits.map((known) => known.name)).map((name) => `${marks}${name}`), start: cursor - typed.length - marks.length, type: 'magic' };
  }
  const argument = MAGIC_ARGUMENT.exec(before);
  const argumentWords = words.magics.find((known) => known.name === argument?.[1])?.arguments;
  if (argument && argumentWords) {
    const typed = argument[2] ?? '';
    return { matches: startingWith(typed, argumentWords), start: cursor - typed.length, type: 'value' };
  }
  const deviceMagic = DEVICE_MAGIC_ARGUMENT.exec(before);
  const deviceString = deviceMagic ? null : DEVICE_STRING.exec(before);
  const typed = deviceMagic?.[2] ?? deviceString?.[1];
  if (typed === undefined) return null;
  const names = await words.deviceNames();
  // `auto` picks the best device when the current one is set; a tensor or a cell is moved to a named one.
  const offered = deviceMagic?.[1] === '%' ? [...names, 'auto'] : names;
  return { matches: startingWith(typed.toLowerCase(), offered), start: cursor - typed.length, type: 'device' };
}
