// The report as one line of text/plain: what a terminal, `tsgpu run` and a client without HTML show.
import { type CellReport, reportSummaries } from './cell-report';
import { bytesText, durationText } from './format';
import { copyRateText, gpuTimeText, heldOnHostText, hostOpsText, transferTimeText, untimedText, waitText } from './wording';

/** " (note)" after a figure, or nothing when there is nothing to say. */
function noted(note: string): string {
  return note === '' ? '' : ` (${note})`;
}

export function reportLine(report: CellReport): string {
  const devices = report.devices.filter((use) => use.ops > 0 || (use.gpu !== null && (use.gpu.ms > 0 || use.gpu.ranBeforeMs > 0)))
    .map((use) => `${use.device}${use.software ? ' (software)' : ''} ${use.ops} ops${noted(hostOpsText(use))}, host ${durationText(use.opMs)}`
      + `${use.gpu ? `, GPU ${gpuTimeText(use)}` : ''}`);
  const transfers = reportSummaries(report).map((summary) => {
    const wait = waitText(summary);
    const head = `${summary.direction} ${summary.count}× ${bytesText(summary.bytes)}`;
    if (summary.untimedCount === summary.count) return `${head} ${transferTimeText(summary)}`;
    const untimed = untimedText(summary);
    return `${head} ${durationText(summary.ms)} (copy ${durationText(summary.copyMs)}, ${copyRateText(summary)}${wait ? `, wait ${wait}` : ''}`
      + `${untimed ? `; ${untimed}` : ''})`;
  });
  const memory = report.devices.filter((use) => use.liveBytes > 0 || use.liveBytesBefore > 0 || use.heldOnHostBytes > 0)
    .map((use) => `${use.device} ${bytesText(use.liveBytes)}${use.heldOnHostBytes > 0 ? ` (+${heldOnHostText(use)})` : ''}`);
  const parts = [
    devices.length > 0 ? devices.join(', ') : 'no ops',
    transfers.length > 0 ? transfers.join('; ') : 'no transfers',
    memory.length > 0 ? `live ${memory.join(', ')}` : '',
  ].filter(Boolean);
  return `[tsgpu] cell ${report.cell}: ${parts.join(' | ')}`;
}
