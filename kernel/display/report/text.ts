// The report as one line of text/plain: what a terminal, `tsgpu run` and a client without HTML show.
import { type CellReport, gigabytesPerSecond, summarizeTransfers } from './cell-report';
import { bytesText, msText, rateText } from './format';

export function reportLine(report: CellReport): string {
  const devices = report.devices.filter((use) => use.ops > 0)
    .map((use) => `${use.device}${use.software ? ' (software)' : ''} ${use.ops} ops`);
  const transfers = summarizeTransfers(report.transfers)
    .map((summary) => `${summary.direction} ${summary.count}× ${bytesText(summary.bytes)} ${msText(summary.ms)} ${rateText(gigabytesPerSecond(summary.bytes, summary.ms))}`);
  const memory = report.devices.filter((use) => use.liveBytes > 0 || use.liveBytesBefore > 0)
    .map((use) => `${use.device} ${bytesText(use.liveBytes)}`);
  const parts = [
    devices.length > 0 ? devices.join(', ') : 'no ops',
    transfers.length > 0 ? transfers.join('; ') : 'no transfers',
    memory.length > 0 ? `live ${memory.join(', ')}` : '',
  ].filter(Boolean);
  return `[tsgpu] cell ${report.cell}: ${parts.join(' | ')}`;
}
