// Advice the report gives, each about code the user wrote and can change, naming its cell line.
// A "loop" hint needs many calls from one line that lies inside a loop of the user's own cell
// (transfer.inLoop): one call moving many tensors (model.to) is not a loop, nor is a library
// looping inside one call (fit's batches) or %timeit repeating a cell. Moves the kernel's own
// helpers make (model.to, progress.fit) are never blamed on the user. Moves a library call makes
// get advice that fits that call, or none. No hint advises undoing an explicit move the user made.
import type { CellReport, ReportTransfer } from './cell-report';

/** This many calls from one loop line in one cell means the loop moves data it could move once. */
const LOOP_CALLS = 8;

function byLine(transfers: ReportTransfer[]): Map<number | null, ReportTransfer[]> {
  const lines = new Map<number | null, ReportTransfer[]>();
  for (const transfer of transfers) lines.set(transfer.line, [...(lines.get(transfer.line) ?? []), transfer]);
  return lines;
}

/** Separate calls among these moves (the 20 moves of one model.to are one call). */
function calls(group: ReportTransfer[]): number {
  return new Set(group.map((transfer) => transfer.via.invocation)).size;
}

const at = (line: number | null): string => (line === null ? 'in this cell' : `at line ${line}`);

/** Moves a line of the user's own loop made, one call per iteration, at least LOOP_CALLS of them. */
function loopLines(transfers: ReportTransfer[], made: (transfer: ReportTransfer) => boolean): [number | null, ReportTransfer[]][] {
  return [...byLine(transfers.filter((transfer) => transfer.inLoop && made(transfer)))].filter(([, group]) => calls(group) >= LOOP_CALLS);
}

const byUser = (transfer: ReportTransfer): boolean => transfer.via.by === 'user';

export function reportHints(report: CellReport): string[] {
  const hints: string[] = [];
  const moves = report.transfers.filter((transfer) => !transfer.scalar);
  const uploads = moves.filter((transfer) => transfer.direction === 'H2D');
  for (const [line, group] of loopLines(uploads, byUser)) {
    const ms = group.reduce((sum, transfer) => sum + transfer.ms, 0);
    hints.push(`${group.length} small host→GPU moves ${at(line)} (${ms.toFixed(1)} ms): move the batch once, before the loop, and keep the data on the device.`);
  }
  // A scalar read back each step (await loss.data()) is the readback this hint is about.
  const readbacks = report.transfers.filter((transfer) => transfer.direction === 'D2H');
  for (const [line, group] of loopLines(readbacks, byUser)) {
    hints.push(`a GPU→host readback ${at(line)} on every iteration (${group.length}×, e.g. await loss.data() per step): read back every N steps, or keep the running value on the device.`);
  }
  // tfjs-layers' trainOnBatch awaits its loss's data() before it returns: one readback per call.
  for (const [line, group] of loopLines(readbacks, (transfer) => transfer.via.call === 'trainOnBatch')) {
    const values = group.length / calls(group) > 1 ? 'its loss and metrics' : 'its loss';
    hints.push(`trainOnBatch reads ${values} back on every call (${group.length}× ${at(line)}, each step of your loop): model.fit over the same batches reads ${values === 'its loss' ? 'it' : 'them'} back once per epoch.`);
  }
  // fit reads each batch's logs back only for a callback object with onBatchEnd (tfjs-layers' CustomCallback).
  for (const [line, group] of byLine(readbacks.filter((transfer) => transfer.via.by === 'library' && transfer.via.perBatchLogs === true))) {
    if (group.length < LOOP_CALLS) continue;
    hints.push(`${group[0]!.via.call} read every batch's logs back (${group.length}× ${at(line)}) because a callback has onBatchEnd: `
      + 'read the logs in onEpochEnd instead, or use a larger batchSize (fewer batches, fewer readbacks).');
  }
  const implicit = moves.filter((transfer) => transfer.cause === 'implicit' && transfer.via.by !== 'kernel');
  for (const [line, group] of byLine(implicit.filter((transfer) => transfer.reverses !== null))) {
    const first = group[0]!;
    const reversed = first.reverses!;
    const cause = reversed.toCurrentDevice
      ? `the input was made on the current device, ${first.to}: make the input on ${first.from} (withDevice('${first.from}', () => …) or %device ${first.from})`
      : `the other input is on ${first.to}: move it with await x.to('${first.from}')`;
    const what = first.via.by === 'library' && first.via.call ? first.via.call : [...new Set(group.map((transfer) => transfer.operation))].slice(0, 3).join(', ');
    hints.push(`the device policy moved ${group.length} tensor${group.length === 1 ? '' : 's'} that ${reversed.operation} had put on ${first.from} (cell ${reversed.cell}) `
      + `back to ${first.to} ${at(line)} for ${what}, because ${cause}.`);
  }
  for (const [line, group] of byLine(implicit.filter((transfer) => transfer.reverses === null))) {
    const ops = [...new Set(group.map((transfer) => transfer.operation))].slice(0, 3).join(', ');
    hints.push(`${group.length} move${group.length === 1 ? '' : 's'} made for you by the device policy ${at(line)} (${ops}): make ${group.length === 1 ? 'it' : 'them'} explicit with await x.to('${group[0]!.to}').`);
  }
  const scalars = report.transfers.filter((transfer) => transfer.scalar && transfer.direction === 'H2D' && transfer.via.by !== 'kernel');
  if (scalars.length >= LOOP_CALLS) {
    hints.push(`${scalars.length} host scalars (learning rate, constants) went to the GPU one by one: make the model and optimizer on the GPU (%device ${scalars[0]!.to}) so they are created there.`);
  }
  const moved = new Set(report.transfers.flatMap((transfer) => [transfer.from, transfer.to]));
  for (const device of report.devices.filter((use) => use.software && (use.ops > 0 || moved.has(use.device)))) {
    hints.push(`${device.device} is a software GPU (lavapipe): its timings are the CPU's, not a GPU's.`);
  }
  return hints;
}
