// The report as one display_data bundle: text/plain, text/html (with the timeline as an image when
// there were transfers) and image/svg+xml, with the full ledger as JSON under metadata.tsgpu.
import type { MimeBundle } from '../../interpreter/interpreter';
import type { JsonObject } from '../../protocol/messages';
import type { CellReport } from './cell-report';
import { reportHints } from './hints';
import { profileHtml, profileText } from './profile-table';
import { reportTable } from './html';
import { reportLine } from './text';
import { reportTimeline } from './timeline';

export type ReportMode = 'off' | 'compact' | 'full';

/**
 * The timeline inside the HTML as an <img> of the SVG: JupyterLab's sanitizer removes inline <svg>
 * from untrusted outputs (and leaves its labels behind as loose text), but keeps an image's data URI.
 */
function timelineImage(svg: string): string {
  const size = /<svg\b[^>]*\bwidth="(\d+)"[^>]*\bheight="(\d+)"/.exec(svg);
  return `<div style="margin-top:4px"><img class="tsgpu-timeline" alt="timeline: one lane per device, each move an arrow from its start to its end"`
    + `${size ? ` width="${size[1]}" height="${size[2]}"` : ''} src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"></div>`;
}

export function renderReport(report: CellReport, mode: Exclude<ReportMode, 'off'>): { data: MimeBundle; metadata: JsonObject } {
  const hints = reportHints(report);
  const text = [reportLine(report), ...hints.map((hint) => `  hint: ${hint}`), ...(report.profile ? [profileText(report.profile)] : [])].join('\n');
  const data: MimeBundle = { 'text/plain': text };
  const withTimeline = mode === 'full' && report.transfers.length > 0;
  const timeline = withTimeline ? reportTimeline(report) : '';
  data['text/html'] = reportTable(report, hints) + (report.profile ? profileHtml(report.profile) : '') + (timeline ? timelineImage(timeline) : '');
  if (withTimeline) data['image/svg+xml'] = timeline;
  return { data, metadata: { tsgpu: JSON.parse(JSON.stringify({ ...report, hints })) as JsonObject } };
}
