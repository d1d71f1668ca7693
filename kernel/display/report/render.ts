// The report as one display_data bundle: text/plain, text/html (with the timeline inline when
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

export function renderReport(report: CellReport, mode: Exclude<ReportMode, 'off'>): { data: MimeBundle; metadata: JsonObject } {
  const hints = reportHints(report);
  const text = [reportLine(report), ...hints.map((hint) => `  hint: ${hint}`), ...(report.profile ? [profileText(report.profile)] : [])].join('\n');
  const data: MimeBundle = { 'text/plain': text };
  const withTimeline = mode === 'full' && report.transfers.length > 0;
  const timeline = withTimeline ? reportTimeline(report) : '';
  data['text/html'] = reportTable(report, hints) + (report.profile ? profileHtml(report.profile) : '') + timeline;
  if (withTimeline) data['image/svg+xml'] = timeline;
  return { data, metadata: { tsgpu: JSON.parse(JSON.stringify({ ...report, hints })) as JsonObject } };
}
