// Number formatting shared by the magics that print sizes and times.
/** Sizes as the report prints them, so one tensor reads the same everywhere. */
export { bytesText as formatBytes } from '../kernel/display/report/format';

/** A plain-text table: columns padded to their widest cell. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

const UNIT_SHIFT: Record<string, number> = { '': 0, b: 0, k: 10, kb: 10, kib: 10, m: 20, mb: 20, mib: 20, g: 30, gb: 30, gib: 30, t: 40, tb: 40, tib: 40 };

/** '512MiB', '1.5 GiB', '256M', '1048576' (binary units) to bytes; null for anything else. */
export function parseBytes(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const shift = match ? UNIT_SHIFT[match[2]!.toLowerCase()] : undefined;
  if (!match || shift === undefined) return null;
  return Math.round(Number(match[1]) * 2 ** shift);
}
