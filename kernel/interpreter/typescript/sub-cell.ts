// Code a magic runs for its cell (%time's line, %%timeit's body) is compiled as a file of its own,
// but placed where it sits in the cell: padded with the lines and columns before it, so its frames,
// type errors and carets give the cell's own line:column, as the user sees them.

/**
 * `code` as it sits in `cell`: unchanged for the cell's body (the cell with magic lines blanked,
 * which keeps every position), else moved down to the first line of the cell that holds it.
 */
export function placeInCell(cell: string, body: string, code: string): string {
  if (code === body || code.includes('\n')) return code;
  const lines = cell.split('\n');
  const row = lines.findIndex((line) => line.includes(code));
  if (row < 0) return code;
  return `${'\n'.repeat(row)}${' '.repeat(lines[row]!.indexOf(code))}${code}`;
}

/**
 * The text a message about `code`'s lines quotes: the cell as the user wrote it (`%time` and all)
 * when every line of `code` sits on the same line of the cell, else `code` itself.
 */
export function quotedSource(cell: string, code: string): string {
  const cellLines = cell.split('\n');
  const aligned = code.split('\n').every((line, row) => line.trim() === '' || (cellLines[row] ?? '').includes(line.trim()));
  return aligned ? cell : code;
}
