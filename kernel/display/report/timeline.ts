// The report's timeline as SVG: one lane per device, its busy spans as bars, and each transfer as
// an arrow from one lane to the other at the moment it happened.
import type { CellReport } from './cell-report';
import { bytesText, escapeHtml, msText } from './format';

const WIDTH = 560;
const LANE = 26;
const LEFT = 64;
const TOP = 16;

export function reportTimeline(report: CellReport): string {
  const devices = report.devices.filter((use) => use.ops > 0 || report.transfers.some((t) => t.from === use.device || t.to === use.device));
  const laneOf = new Map(devices.map((use, index) => [use.device, index]));
  const span = Math.max(report.durationMs, 1);
  const x = (ms: number): number => LEFT + (Math.min(Math.max(ms, 0), span) / span) * (WIDTH - LEFT - 12);
  const y = (lane: number): number => TOP + lane * LANE + LANE / 2;
  const height = TOP + devices.length * LANE + 18;
  const parts: string[] = [];
  devices.forEach((use, lane) => {
    parts.push(`<text x="4" y="${y(lane) + 4}" font-size="11" fill="currentColor">${escapeHtml(use.device)}</text>`);
    parts.push(`<line x1="${LEFT}" y1="${y(lane)}" x2="${WIDTH - 12}" y2="${y(lane)}" stroke="currentColor" stroke-opacity="0.2"/>`);
    for (const [start, end] of use.spans) {
      const width = Math.max(1.5, x(end) - x(start));
      parts.push(`<rect x="${x(start).toFixed(1)}" y="${y(lane) - 6}" width="${width.toFixed(1)}" height="12" fill="#4c9be8" fill-opacity="0.7"><title>${escapeHtml(use.device)} busy ${msText(end - start)}</title></rect>`);
    }
  });
  for (const transfer of report.transfers) {
    const from = laneOf.get(transfer.from);
    const to = laneOf.get(transfer.to);
    if (from === undefined || to === undefined || from === to) continue;
    const at = x(transfer.at);
    const colour = transfer.direction === 'D2H' ? '#e8774c' : '#3fb37f';
    const y1 = y(from) + (to > from ? 6 : -6);
    const y2 = y(to) + (to > from ? -7 : 7);
    parts.push(`<line x1="${at.toFixed(1)}" y1="${y1}" x2="${at.toFixed(1)}" y2="${y2}" stroke="${colour}" stroke-width="1.5" marker-end="url(#tsgpu-arrow-${transfer.direction})">`
      + `<title>${transfer.direction} ${bytesText(transfer.bytes)} ${msText(transfer.ms)} ${escapeHtml(transfer.operation)}${transfer.line === null ? '' : ` line ${transfer.line}`}</title></line>`);
  }
  parts.push(`<text x="${LEFT}" y="${height - 4}" font-size="10" fill="currentColor" fill-opacity="0.7">0</text>`);
  parts.push(`<text x="${WIDTH - 12}" y="${height - 4}" font-size="10" fill="currentColor" fill-opacity="0.7" text-anchor="end">${msText(span)}</text>`);
  const marker = (direction: string, colour: string): string => `<marker id="tsgpu-arrow-${direction}" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="tsgpu-timeline" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" style="color:inherit">`
    + `<defs>${marker('H2D', '#3fb37f')}${marker('D2D', '#3fb37f')}${marker('host', '#3fb37f')}${marker('D2H', '#e8774c')}</defs>${parts.join('')}</svg>`;
}
