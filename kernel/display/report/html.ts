// The report as a compact, self-contained HTML table. No external CSS or JS; text takes the
// surrounding theme's colour (inherited, never set) and rules are translucent tints, so it reads in
// light and dark JupyterLab, VS Code and the classic Notebook alike. Only inline styles that
// JupyterLab's sanitizer keeps for untrusted outputs are used (it drops `color:inherit` and
// `font-variant-numeric`): trusted or not, the report looks the same.
import { type CellReport, reportSummaries } from './cell-report';
import { bytesText, durationText, escapeHtml, msText } from './format';
import { copyRateText, gpuTimeText, heldOnHostText, hostOpsText, lineText, transferTimeText, waitText } from './wording';

const TABLE = 'border-collapse:collapse;font-size:12px;line-height:1.4;margin:2px 0;background:transparent';
const CELL = 'padding:2px 8px;border-bottom:1px solid rgba(127,127,127,0.25);text-align:left;vertical-align:top;background:transparent';
const NUMBER = `${CELL};text-align:right`;
const HEAD = `${CELL};font-weight:600;border-bottom:1px solid rgba(127,127,127,0.6)`;
const SECTION = `${CELL};font-weight:600;opacity:0.75;padding-top:6px`;

function row(cells: [string, boolean][], style = CELL): string {
  return `<tr>${cells.map(([text, numeric]) => `<td style="${numeric ? NUMBER : style}">${text}</td>`).join('')}</tr>`;
}

function lineList(lines: { line: number | null; cell?: number; count: number }[]): string {
  return lines.slice(0, 4).map((where) => `${lineText(where)}${where.count > 1 ? ` ×${where.count}` : ''}`).join('; ');
}

export function reportTable(report: CellReport, hints: string[]): string {
  const rows: string[] = [];
  rows.push(`<tr><td style="${SECTION}" colspan="8">devices</td></tr>`);
  rows.push(`<tr>${['device', 'ops', 'op time (host)', 'GPU time', 'live memory', 'change', '', ''].map((title) => `<th style="${HEAD}">${title}</th>`).join('')}</tr>`);
  for (const use of report.devices) {
    const change = use.liveBytes - use.liveBytesBefore;
    // What tfjs did on the host for a GPU: its ops there, its tensors' values kept in host arrays.
    const notes = [hostOpsText(use), heldOnHostText(use)].filter((note) => note !== '').join('; ');
    rows.push(row([
      [`${escapeHtml(use.device)}${use.software ? ' <span style="opacity:0.7">(software)</span>' : ''}`, false],
      [String(use.ops), true], [use.ops > 0 ? durationText(use.opMs) : '', true], [escapeHtml(gpuTimeText(use)), true], [bytesText(use.liveBytes), true],
      [change === 0 ? '' : `${change > 0 ? '+' : ''}${bytesText(change)}`, true], [escapeHtml(notes), false], ['', false],
    ]));
  }
  const summaries = reportSummaries(report);
  if (summaries.length > 0) {
    rows.push(`<tr><td style="${SECTION}" colspan="8">transfers</td></tr>`);
    rows.push(`<tr>${['direction', 'count', 'bytes', 'time', 'copy', 'GB/s (copy)', 'waited for', 'caused by'].map((title) => `<th style="${HEAD}">${title}</th>`).join('')}</tr>`);
    for (const summary of summaries) {
      rows.push(row([
        [summary.direction, false], [String(summary.count), true], [bytesText(summary.bytes), true], [escapeHtml(transferTimeText(summary)), true],
        [summary.untimedCount === summary.count ? '' : durationText(summary.copyMs), true], [copyRateText(summary), true], [escapeHtml(waitText(summary)), false], [escapeHtml(lineList(summary.lines)), false],
      ]));
    }
  }
  const hintHtml = hints.length === 0 ? ''
    : `<ul style="margin:4px 0 0 0;padding-left:18px;font-size:12px">${hints.map((hint) => `<li>${escapeHtml(hint)}</li>`).join('')}</ul>`;
  return `<div class="tsgpu-report"><div style="font-size:12px;opacity:0.75">tsgpu · cell ${report.cell} · ${msText(report.durationMs)}</div>`
    + `<table class="tsgpu-report-table" style="${TABLE}">${rows.join('')}</table>${hintHtml}</div>`;
}
