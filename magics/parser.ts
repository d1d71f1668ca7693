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

export function parseCell(cell: string): ParsedCell {
  const lines = cell.split('\n');
  let cellMagic: MagicCall | null = null;
  const lineMagics: MagicCall[] = [];
  const firstCodeLine = lines.findIndex((line) => line.trim() !== '');
  const code = lines.map((line, index) => {
    const match = MAGIC_LINE.exec(line);
    if (!match) return line;
    const [, marks, name = '', args = ''] = match;
    const call = { name: line.trimEnd().endsWith('?') && args === '' ? `${name}?` : name, args, line: index + 1 };
    if (marks === '%%') {
      if (index !== firstCodeLine) return line; // `%%x` below the first line is left to the checker to flag
      cellMagic = call;
    } else lineMagics.push(call);
    return ' '.repeat(line.length);
  });
  return { cellMagic, lineMagics, code: code.join('\n') };
}
