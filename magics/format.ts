// Number formatting shared by the magics that print sizes and times.
/** Sizes as the report prints them, so one tensor reads the same everywhere. */
export { bytesText as formatBytes } from '../kernel/display/report/format';

/** A plain-text table: columns padded to their widest cell. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
