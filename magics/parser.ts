// Splits a cell into magics and code. A magic line is `%name args`, `%%name args` (first line
// only: applies to the whole cell) or the comment form `//%name args` that editors' TypeScript
// checkers accept. Magic lines are blanked to spaces of the same length, so every line:column
// and offset in the remaining code is the one the user sees: the offset map is the identity.
export interface MagicCall {
  name: string;
  args: string;
  /** 1-based line of the cell the magic is on. */
  line: number;
}

export interface ParsedCell {
  cellMagic: MagicCall | null;
  lineMagics: MagicCall[];
  /** The cell with magic lines blanked; same length and line structure as the input. */
  code: string;
}

const MAGIC_LINE = /^\s*(?:\/\/)?(%%?)([A-Za-z_][\w-]*)\??(?:[ \t]+(.*?))?\s*$/;

/** Magics whose arguments are code: a `//` or `;` there is the code's own. */
const CODE_ARGUMENTS = new Set(['time', 'timeit']);
/**
 * Words, then a `;` or a ` // comment` out of habit (`%device gpu:0   // or: %device auto`, as
 * README's own example reads), or a Python one (` # use the GPU`, as IPython's magics take it): the
 * words. Arguments with quotes or parentheses before the comment are left whole.
 */
const TRAILING_HABIT = /^([^'"`()]*?)\s*;?(?:\s+(?:\/\/|#).*)?$/;

function withoutTrailingHabit(name: string, args: string): string {
  if (CODE_ARGUMENTS.has(name)) return args;
  return TRAILING_HABIT.exec(args)?.[1] ?? args;
}

/**
 * Line magics written below code: they run before all of the cell's code, not at their place
 * (IPython runs them in order). Comments and blank lines above a magic are not code.
 */
export function magicsBelowCode(parsed: ParsedCell): { calls: MagicCall[]; firstCodeLine: number } {
  const lines = parsed.code.split('\n');
  const firstCode = lines.findIndex((line) => {
    const text = line.trim();
    return text !== '' && !text.startsWith('//') && !text.startsWith('/*') && !text.startsWith('*');
  });
  if (firstCode === -1) return { calls: [], firstCodeLine: 0 };
  return { calls: parsed.lineMagics.filter((call) => call.line > firstCode + 1 && !call.name.endsWith('?')), firstCodeLine: firstCode + 1 };
}

export function parseCell(cell: string): ParsedCell {
  const lines = cell.split('\n');
  let cellMagic: MagicCall | null = null;
  const lineMagics: MagicCall[] = [];
  const firstCodeLine = lines.findIndex((line) => line.trim() !== '');
  const code = lines.map((line, index) => {
    const match = MAGIC_LINE.exec(line);
    if (!match) return line;
    const [, marks, name = '', written = ''] = match;
    const args = withoutTrailingHabit(name, written);
    const call = { name: line.trimEnd().endsWith('?') && args === '' ? `${name}?` : name, args, line: index + 1 };
    if (marks === '%%') {
      if (index !== firstCodeLine) return line; // `%%x` below the first line is left to the checker to flag
      cellMagic = call;
    } else lineMagics.push(call);
    return ' '.repeat(line.length);
  });
  return { cellMagic, lineMagics, code: code.join('\n') };
}
