// Phrases the text and HTML renderings share: what a GPU's time was and what a move waited for.
import type { DeviceUse, TransferSummary } from './cell-report';
import { gigabytesPerSecond } from './cell-report';
import { bytesText, durationText, rateText } from './format';

/** Runs of consecutive cells a list shows before it elides (after 300 unreported cells, a line listed 297 numbers). */
const MAX_CELL_RUNS = 6;

/** "cell 3", "cells 3 5", "cells 3–298", "cells 1 3–5 … 40 42 (31 cells)": metadata.tsgpu keeps every number. */
export function cells(numbers: number[]): string {
  if (numbers.length === 1) return `cell ${numbers[0]}`;
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const cell of sorted) {
    const last = runs.at(-1);
    if (last !== undefined && cell === last[1] + 1) last[1] = cell;
    else runs.push([cell, cell]);
  }
  const shown = (run: [number, number]): string => (run[0] === run[1] ? `${run[0]}` : run[1] === run[0] + 1 ? `${run[0]} ${run[1]}` : `${run[0]}–${run[1]}`);
  if (runs.length <= MAX_CELL_RUNS) return `cells ${runs.map(shown).join(' ')}`;
  return `cells ${[...runs.slice(0, 3), null, ...runs.slice(-2)].map((run) => (run === null ? '…' : shown(run))).join(' ')} (${sorted.length} cells)`;
}

/** "431 ms (timestamps; 400 ms queued by cell 3)" */
export function gpuTimeText(use: DeviceUse): string {
  const gpu = use.gpu;
  if (gpu === null) return '';
  const notes: string[] = [gpu.source === 'timestamps' ? 'GPU clock' : 'fenced, idle gaps included'];
  if (gpu.earlierCellsMs > 0) notes.push(`${durationText(gpu.earlierCellsMs)} queued by ${cells(gpu.earlierCells)}`);
  // Not in the figure: it ran before this cell began, and no other report can show it now.
  const ranBefore = gpu.ranBeforeMs > 0 ? [`${durationText(gpu.ranBeforeMs)} more, queued by ${cells(gpu.ranBeforeCells)}, ran before this cell began`] : [];
  notes.push(...ranBefore);
  if ((gpu.detachedMs ?? 0) > 0) notes.push(`${durationText(gpu.detachedMs!)} more ran for detached work, not counted`);
  const othersOnly = gpu.busyWithOthers;
  if (gpu.stillBusy) {
    notes.push(othersOnly ? `still busy at the end with work queued by ${cells(othersOnly)}: it shows with a later cell` : 'still busy at the end: the rest shows with a later cell');
  }
  if (gpu.heldBack) notes.push('tfjs held its last work until the cell ended: it runs now, and its time shows with a later cell');
  // No time yet for this cell's work that ran on after it: unknown, not 0.
  if (gpu.ms <= 0 && ((gpu.stillBusy && !othersOnly) || gpu.heldBack === true)) {
    const why = gpu.stillBusy ? 'still busy at the end: its time shows with a later cell' : notes.at(-1)!;
    return `not measured yet (${[why, ...ranBefore].join('; ')})`;
  }
  const untimed = gpu.untimedPasses ?? 0;
  if (untimed > 0) {
    const note = `GPU time not measured for ${untimed} pass${untimed === 1 ? '' : 'es'} timed by tf.time/tf.profile`;
    if (gpu.ms <= 0) return `not measured (${[note, ...notes.slice(1)].join('; ')})`;
    notes.push(note);
  }
  return `${durationText(gpu.ms)} (${notes.join('; ')})`;
}

/** "1 run on the host by tfjs": a GPU's ops its tfjs backend ran on the CPU; '' when none. */
export function hostOpsText(use: DeviceUse): string {
  return use.hostOps > 0 ? `${use.hostOps === use.ops && use.ops > 1 ? 'all' : use.hostOps} run on the host by tfjs` : '';
}

/** "32 B in host arrays": a GPU's tensors tfjs keeps on the host, not in GPU memory; '' when none. */
export function heldOnHostText(use: DeviceUse): string {
  return use.heldOnHostBytes > 0 ? `${bytesText(use.heldOnHostBytes)} in host arrays` : '';
}

/** Below this the kernel's own work on a line's calls is left out of the words (its figure stays in metadata.tsgpu): a `Promise.all` of moves showed "+ 3.5 µs tsgpu overhead". */
const SHOWN_OVERHEAD_MS = 0.05;

/** "400 ms gpu:0 GPU work queued by cell 3 + 31 ms gpu:0 GPU work + 0.4 ms gpu:0 queue latency + 19 ms gpu:0 set-up (new buffer) + 1.50 s host busy + 13 ms garbage collection + 2.1 ms tsgpu overhead" */
export function waitText(summary: TransferSummary): string {
  if (summary.waitMs <= 0) return '';
  const parts = summary.waits.map((wait) => {
    if (wait.cause === 'gpu-work') return `${durationText(wait.ms)} ${wait.device} GPU work${wait.earlierCells.length > 0 ? ` queued by ${cells(wait.earlierCells)}` : ''}`;
    // The fence's round trip beyond the GPU's timed work: the GPU ran none of the work meanwhile.
    if (wait.cause === 'gpu-latency') return `${durationText(wait.ms)} ${wait.device} queue latency`;
    if (wait.cause === 'host-busy') return `${durationText(wait.ms)} host busy`;
    if (wait.cause === 'gc') return `${durationText(wait.ms)} garbage collection`;
    // The kernel's own work on the calls (see withKernelWork): a loop of small moves pays it per move.
    if (wait.cause === 'tsgpu') return wait.ms >= SHOWN_OVERHEAD_MS ? `${durationText(wait.ms)} tsgpu overhead` : null;
    // The GPU's first use sets it up; a later move may still wait for a new staging buffer.
    if (wait.cause === 'gpu-setup') return `${durationText(wait.ms)} ${wait.device} set-up (first use)`;
    return `${durationText(wait.ms)} ${wait.device} set-up (new buffer)`;
  });
  return parts.filter((part) => part !== null).join(' + ');
}

/** GB/s over the copy for moves big enough, else the copy's latency per move; over the timed moves only. */
export function copyRateText(summary: TransferSummary): string {
  const count = summary.count - summary.untimedCount;
  if (count === 0) return 'not measured';
  const rate = gigabytesPerSecond(summary.bytes - summary.untimedBytes, summary.copyMs, count);
  return rate !== null ? rateText(rate) : `${durationText(summary.copyMs / count)}/move`;
}

/**
 * Whose the untimed moves were where a library call made them: "fit's own", "312 of them fit's
 * own"; '' where none was. A fit's hundreds of its own small tensors read as the user's to fix.
 */
function untimedOwners(summary: TransferSummary): string {
  const [first, ...rest] = summary.untimedByCall;
  if (first === undefined) return '';
  if (rest.length === 0 && first.count === summary.untimedCount) return `${first.call}'s own`;
  return summary.untimedByCall.map(({ call, count }) => `${count} of them ${call}'s own`).join(', ');
}

/** For moves some of which tfjs uploaded at first use: "3 uploaded at first use, time not measured"; '' when all were timed. */
export function untimedText(summary: TransferSummary): string {
  if (summary.untimedCount === 0) return '';
  const owners = untimedOwners(summary);
  return `${summary.untimedCount} uploaded at first use, ${owners === '' ? '' : `${owners}, `}time not measured`;
}

/** The moves' time: "not measured (…)" when none was timed, else the time and what it leaves out. */
export function transferTimeText(summary: TransferSummary): string {
  if (summary.untimedCount === summary.count) {
    const owners = untimedOwners(summary);
    return `not measured (uploaded at first use${owners === '' ? '' : `, ${owners}`})`;
  }
  const untimed = untimedText(summary);
  return untimed ? `${durationText(summary.ms)} (${untimed})` : durationText(summary.ms);
}

/** "line 5", or "cell 1, line 5" for a line of another cell; "?" when unknown. */
export function lineText(where: { line: number | null; cell?: number }): string {
  if (where.line === null) return '?';
  return where.cell === undefined ? `line ${where.line}` : `cell ${where.cell}, line ${where.line}`;
}
