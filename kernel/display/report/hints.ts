// Advice the report gives, each naming the cell line it is about: what costs more than it should.
import type { CellReport, ReportTransfer } from './cell-report';

/** This many moves from one line in one cell means a loop is moving data it could move once. */
const LOOP_MOVES = 8;

function byLine(transfers: ReportTransfer[]): Map<number | null, ReportTransfer[]> {
  const lines = new Map<number | null, ReportTransfer[]>();
  for (const transfer of transfers) lines.set(transfer.line, [...(lines.get(transfer.line) ?? []), transfer]);
  return lines;
}

const at = (line: number | null): string => (line === null ? 'in this cell' : `at line ${line}`);

export function reportHints(report: CellReport): string[] {
  const hints: string[] = [];
  const moves = report.transfers.filter((transfer) => !transfer.scalar);
  for (const [line, group] of byLine(moves.filter((transfer) => transfer.direction === 'H2D'))) {
    if (group.length >= LOOP_MOVES) {
      const ms = group.reduce((sum, transfer) => sum + transfer.ms, 0);
      hints.push(`${group.length} small host→GPU moves ${at(line)} (${ms.toFixed(1)} ms): move the batch once, before the loop, and keep the data on the device.`);
    }
  }
  // A scalar read back each step (await loss.data()) is the readback this hint is about.
  for (const [line, group] of byLine(report.transfers.filter((transfer) => transfer.direction === 'D2H'))) {
    if (group.length >= LOOP_MOVES) {
      hints.push(`a GPU→host readback ${at(line)} on every iteration (${group.length}×, e.g. await loss.data() per step): read back every N steps, or keep the running value on the device.`);
    }
  }
  const implicit = moves.filter((transfer) => transfer.cause === 'implicit');
  for (const [line, group] of byLine(implicit)) {
    const ops = [...new Set(group.map((transfer) => transfer.operation))].slice(0, 3).join(', ');
    hints.push(`${group.length} move${group.length === 1 ? '' : 's'} made for you by the device policy ${at(line)} (${ops}): make ${group.length === 1 ? 'it' : 'them'} explicit with await x.to('${group[0]!.to}').`);
  }
  const scalars = report.transfers.filter((transfer) => transfer.scalar && transfer.direction === 'H2D');
  if (scalars.length >= LOOP_MOVES) {
    hints.push(`${scalars.length} host scalars (learning rate, constants) went to the GPU one by one: make the model and optimizer on the GPU (%device ${scalars[0]!.to}) so they are created there.`);
  }
  const moved = new Set(report.transfers.flatMap((transfer) => [transfer.from, transfer.to]));
  for (const device of report.devices.filter((use) => use.software && (use.ops > 0 || moved.has(use.device)))) {
    hints.push(`${device.device} is a software GPU (lavapipe): its timings are the CPU's, not a GPU's.`);
  }
  return hints;
}
