// %profile's per-op table, like torch.profiler's key_averages().table(): most GPU time first.
import type { ProfileRow } from '../../device/profile/op-profiler';
import { bytesText, durationText, escapeHtml } from './format';

const CELL = 'padding:2px 8px;border-bottom:1px solid rgba(127,127,127,0.25);text-align:left;background:transparent';
const NUMBER = `${CELL};text-align:right;font-variant-numeric:tabular-nums`;
const HEAD = `${CELL};font-weight:600;border-bottom:1px solid rgba(127,127,127,0.6)`;
const HEADERS = ['op', 'device', 'calls', 'host ms', 'GPU ms', 'bytes in', 'bytes out'];

function cells(row: ProfileRow): string[] {
  return [row.op, row.device, String(row.calls), row.hostMs.toFixed(3), row.gpuMs === null ? '–' : row.gpuMs.toFixed(3), bytesText(row.bytesIn), bytesText(row.bytesOut)];
}

export function profileText(rows: ProfileRow[]): string {
  const table = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_title, column) => Math.max(...table.map((row) => row[column]!.length)));
  const line = (row: string[]): string => row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  const total = rows.reduce((sum, row) => sum + (row.gpuMs ?? 0), 0);
  return [line(HEADERS), widths.map((width) => '-'.repeat(width)).join('  '), ...table.slice(1).map(line),
    `GPU total ${durationText(total)} (timestamp per op's pass; each GPU op ran in a pass of its own while profiling)`].join('\n');
}

export function profileHtml(rows: ProfileRow[]): string {
  const head = `<tr>${HEADERS.map((title) => `<th style="${HEAD}">${title}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${cells(row).map((text, column) => `<td style="${column < 2 ? CELL : NUMBER}">${escapeHtml(text)}</td>`).join('')}</tr>`).join('');
  return `<div style="font-size:12px;opacity:0.75;margin-top:4px">profile (ops by GPU time)</div>`
    + `<table class="tsgpu-profile" style="border-collapse:collapse;font-size:12px;line-height:1.4;background:transparent">${head}${body}</table>`;
}
