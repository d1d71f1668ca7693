// Advice the report gives, each about code the user wrote and can change, naming its cell line.
// A "loop" hint needs many calls from one line that lies inside a loop of the user's own cell
// (transfer.inLoop): one call moving many tensors (model.to) is not a loop, nor is a library
// looping inside one call (fit's batches) or %timeit repeating a cell. Moves the kernel's own
// helpers make (model.to, progress.fit) are never blamed on the user. Moves a library call makes
// get advice that fits that call, or none. No hint advises undoing an explicit move the user made.
import type { FoldedTimeOf, MoveAnchor, MoveWait } from '../../device/device-control';
import { type CellReport, type ReportTransfer, summarizeTransfers, type TransferSummary, usedSoftwareGpus } from './cell-report';
import { bytesText, durationText } from './format';
import { listText } from '../../text';
import { lineText } from './wording';

/** This many calls from one loop line in one cell means the loop moves data it could move once. */
const LOOP_CALLS = 8;

/** Moves grouped by the line they are credited to (a line of another cell is its own group). */
function byLine(transfers: ReportTransfer[]): Map<string, ReportTransfer[]> {
  const lines = new Map<string, ReportTransfer[]>();
  for (const transfer of transfers) {
    const key = `${transfer.cell ?? ''}|${transfer.line}`;
    const line = lines.get(key);
    if (line === undefined) lines.set(key, [transfer]);
    else line.push(transfer);
  }
  return lines;
}

/** Separate calls among these moves (the 20 moves of one model.to are one call). */
function calls(group: ReportTransfer[]): number {
  return new Set(group.map((transfer) => transfer.via.invocation)).size;
}

/**
 * "at line 3", "at cell 1, line 5", and for a move made in a function the loop calls, that
 * function's line too: "at line 4 (in the function called there, cell 1, line 3)".
 */
function at(transfer: ReportTransfer, cell: number): string {
  if (transfer.line === null) return 'in this cell';
  const helper = transfer.helper;
  const inside = helper === undefined ? '' : ` (in the function called there, ${lineText(helper.cell === cell ? { line: helper.line } : helper)})`;
  return `at ${lineText(transfer)}${inside}`;
}

/**
 * At some moment most of the moves were in flight at once (a `Promise.all` of a map's reads), not a
 * few at a time step after step (a loop awaiting four reads together each step is a loop of steps).
 */
function inFlightTogether(group: readonly ReportTransfer[]): boolean {
  const edges = group.flatMap((transfer) => [{ at: transfer.at, step: 1 }, { at: transfer.at + transfer.ms, step: -1 }])
    .sort((a, b) => a.at - b.at || a.step - b.step);
  let inFlight = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, inFlight += edge.step);
  return most > group.length / 2;
}

/** Moves a line of the user's own loop made, one call per iteration, at least LOOP_CALLS of them. */
function loopLines(transfers: ReportTransfer[], made: (transfer: ReportTransfer) => boolean): ReportTransfer[][] {
  return [...byLine(transfers.filter((transfer) => transfer.inLoop && made(transfer))).values()].filter((group) => calls(group) >= LOOP_CALLS);
}

const byUser = (transfer: ReportTransfer): boolean => transfer.via.by === 'user';

/** "of it" for one op; the first op's name where the group's moves are for several (its input drew the rest). */
function ofFirstOp(group: ReportTransfer[]): string {
  return new Set(group.map((transfer) => transfer.operation)).size === 1 ? 'of it' : `of ${group[0]!.operation}`;
}

/**
 * The op's input on the GPU that drew it there, as the hints name it: a variable by its name (an
 * unnamed one is often an optimizer's state, made wherever the optimizer was made).
 */
function otherInput(anchor: MoveAnchor | undefined, of: string): string {
  const name = anchor?.name ?? null;
  if (name === null) return `another input ${of}`;
  if (/^\d+$/.test(name)) return `another input ${of} (a variable tfjs numbered '${name}': an optimizer's own state is one, made where the optimizer was made)`;
  return `another input ${of} (variable '${name}')`;
}

/** A layer's weight (or its optimizer slot): tfjs-layers names them 'dense_Dense1/kernel'. */
function isWeight(anchor: MoveAnchor | undefined): boolean {
  return anchor?.name?.includes('/') === true;
}

/**
 * How that input goes back to `device`, by the name the line gives it (`w` of `h.matMul(w)`, the
 * model of `net.fit(…)` for its weight); else a placeholder that reads as none of the user's
 * variables (`x` and `model` often were their names for something else).
 */
function moveBack(anchor: MoveAnchor | undefined, device: string): string {
  const name = anchor?.said ?? (isWeight(anchor) ? '<its model>' : '<that input>');
  return `await ${name}.to('${device}')`;
}

/** The user's own move, as they wrote it: model.to('cpu'), x.to('cpu'), x.cpu(). */
function userMove(operation: string, device: string, tensor: string): string {
  if (operation.includes('.')) return `${operation}('${device}')`;
  return operation === 'to' ? `${tensor}.to('${device}')` : `${tensor}.${operation}()`;
}

/** The group's tensors as the line passed them (fit's xs and ys), where it names each, at most four; else null. */
function namesOf(group: ReportTransfer[]): string[] | null {
  const names = [...new Set(group.map((transfer) => transfer.input))];
  return names.length <= 4 && names.every((name) => name !== undefined) ? names as string[] : null;
}

/** "await xs.to('gpu:0') and await ys.to('gpu:0')", or a placeholder that reads as none of the user's variables. */
function explicitMoves(named: string[] | null, device: string): string {
  return listText((named ?? ['<that input>']).map((name) => `await ${name}.to('${device}')`));
}

/**
 * Why a policy's move went where it did, when the user may not know it: the input there was moved
 * by the policy itself earlier, or is a variable made there. Nothing for an input the user put there.
 */
function drawnBy(anchor: MoveAnchor | undefined, device: string, of: string): string {
  if (anchor === undefined || anchor.placedBy?.by === 'user') return '';
  const other = otherInput(anchor, of);
  if (anchor.placedBy?.by === 'policy') return `, because ${other} is on ${device}, where the device policy moved it in cell ${anchor.placedBy.cell} (for ${anchor.placedBy.operation})`;
  // Made there: under %device gpu:0, tfjs makes its own tensors there too (a gradient's seed, an optimizer's constants).
  if (anchor.onCurrentDevice) return `, because ${other} was made on ${device}, where new tensors are made (%device ${device})`;
  return anchor.name === null ? '' : `, because ${other} is on ${device}`;
}

/** A move's line and the device it went to, as one key. */
const lineAndTarget = (transfer: ReportTransfer): string => `${transfer.cell ?? ''}|${transfer.line}|${transfer.to}`;

/** "of 4.0 MiB each", or the range when sizes differ. */
function sizeEach(group: ReportTransfer[]): string {
  const sizes = group.map((transfer) => transfer.bytes);
  const [least, most] = [Math.min(...sizes), Math.max(...sizes)];
  return least === most ? `of ${bytesText(least)} each` : `of ${bytesText(least)} to ${bytesText(most)}`;
}

/**
 * A line's moves with those of its moves the ledger folded (a long loop's older moves): how many
 * there were, and their time. Folded moves are timed per direction; when other lines' moves were
 * folded too, this line's part of that time is its folded lines' own times, their waits' causes
 * those of the direction's.
 */
function withFolded(group: ReportTransfer[], report: CellReport): { count: number; summary: TransferSummary } {
  const first = group[0]!;
  const operations = new Set(group.map((transfer) => transfer.operation));
  const sameDirection = report.foldedTransfers.filter((folded) => folded.direction === first.direction);
  const mine = sameDirection.filter((folded) => folded.line === first.line && folded.cell === first.cell
    && folded.from === first.from && folded.to === first.to && operations.has(folded.operation));
  const count = group.length + mine.reduce((total, folded) => total + folded.count, 0);
  const time = report.foldedTime.find((folded) => folded.direction === first.direction);
  let foldedTime: FoldedTimeOf[] = [];
  if (mine.length > 0 && time !== undefined) {
    if (mine.length === sameDirection.length) {
      foldedTime = [time];
    } else {
      const [ms, copyMs, waitMs] = ['ms', 'copyMs', 'waitMs'].map((key) => mine.reduce((total, folded) => total + folded[key as 'ms' | 'copyMs' | 'waitMs'], 0)) as [number, number, number];
      const allWaits = time.waits.reduce((total, wait) => total + wait.ms, 0);
      const waits = allWaits > 0 ? time.waits.map((wait) => ({ ...wait, ms: (wait.ms * waitMs) / allWaits })) : [];
      foldedTime = [{ direction: first.direction, ms, copyMs, end: time.end, waits }];
    }
  }
  return { count, summary: summarizeTransfers(group, mine, foldedTime)[0]! };
}

/**
 * How many moves a hint's group stands for: its own, and those of its kind the ledger folded (a
 * loop of 25,000 scalar moves kept 15,001 one by one, and the hint said 15001). `sameLine`: only
 * folded moves of the group's line.
 */
function countWithFolded(group: ReportTransfer[], report: CellReport, sameLine = true): number {
  const first = group[0]!;
  const operations = new Set(group.map((transfer) => transfer.operation));
  const folded = report.foldedTransfers.filter((moves) => moves.direction === first.direction && moves.from === first.from && moves.to === first.to
    && moves.cause === first.cause && operations.has(moves.operation) && (moves.scalar === true) === first.scalar
    && (moves.untimed === true) === (first.untimed === true) && (!sameLine || (moves.line === first.line && moves.cell === first.cell)));
  return group.length + folded.reduce((total, moves) => total + moves.count, 0);
}

/**
 * What a move waited for, as the upload hint names it: first what one move of the batch would wait
 * for too (the GPU's earlier work, its first set-up), then what it may save in part (tsgpu's own
 * work and the copies are named apart: it saves them).
 */
const WAIT_CAUSES: Record<Exclude<MoveWait['cause'], 'tsgpu'>, { text: string; saved: 'no' | 'partly' }> = {
  'gpu-work': { text: 'GPU work queued earlier', saved: 'no' },
  'gpu-setup': { text: 'the GPU\'s set-up (first use)', saved: 'no' },
  'gpu-latency': { text: 'the GPU queue\'s latency', saved: 'partly' },
  'staging-setup': { text: 'a new staging buffer', saved: 'partly' },
  // In a Promise.all of moves, part of it is the other calls' steps (their promises' hops), which one move would not make.
  'host-busy': { text: 'the host running other code', saved: 'partly' },
  // The cell's own garbage is collected all the same; the moves' (30 batches of 200 uploads of 4 KiB
  // in a Promise.all met 137 ms of collections, 30 uploads of the same 800 KiB as one tensor 4.4 ms) is not made.
  gc: { text: 'garbage collection', saved: 'partly' },
};

/** The upload hint: each move's size, and the copying the advice saves apart from the waits it saves in part or not at all. */
function uploadHint(group: ReportTransfer[], report: CellReport): string {
  const cell = report.cell;
  const first = group[0]!;
  if (group.every((transfer) => transfer.untimed)) {
    return `${group.length} host→GPU moves ${sizeEach(group)} ${at(first, cell)} (tensors made there from host values, uploaded at first use; time not measured): `
      + 'make the data once, before the loop (one tensor of every batch, sliced on the device each step), and keep it on the device.';
  }
  const { count, summary } = withFolded(group, report);
  // The kernel's own work per call is saved with the copies: one move instead of many.
  const overheadMs = summary.waits.filter((wait) => wait.cause === 'tsgpu').reduce((sum, wait) => sum + wait.ms, 0);
  const saved = [`${durationText(summary.copyMs)} copying`];
  if (overheadMs >= 0.05) saved.push(`${durationText(overheadMs)} of tsgpu's own work on the calls`);
  const waited = (kind: 'no' | 'partly'): { ms: number; causes: string[] } => {
    const waits = summary.waits.flatMap((wait) => (wait.cause === 'tsgpu' || WAIT_CAUSES[wait.cause].saved !== kind ? [] : [{ ms: wait.ms, text: WAIT_CAUSES[wait.cause].text }]));
    return { ms: waits.reduce((sum, wait) => sum + wait.ms, 0), causes: [...new Set(waits.map((wait) => wait.text))] };
  };
  const unsaved = waited('no');
  const partly = waited('partly');
  const after = unsaved.ms >= 0.05 ? `, after ${durationText(unsaved.ms)} waiting for ${listText(unsaved.causes)}, which this does not save` : '';
  const more = partly.ms >= 0.05 ? `; ${durationText(partly.ms)} more waiting for ${listText(partly.causes)}, which this saves only as far as the moves caused it` : '';
  return `${count} host→GPU moves ${sizeEach(group)} ${at(first, cell)} (${listText(saved)}${after}${more}): `
    + 'move the batch once, before the loop, and keep the data on the device.';
}

/** A loop line's moves of tensors to the host (h.to('cpu'), h.cpu()): not values read, but where the tensors live. */
const movesToHost = (group: ReportTransfer[]): boolean => group.every((transfer) => transfer.operation === 'to' || transfer.operation === 'cpu');

export function reportHints(report: CellReport): string[] {
  const hints: string[] = [];
  const cell = report.cell;
  // A scalar read back each step (await loss.data()) is the readback this hint is about.
  const readbacks = report.transfers.filter((transfer) => transfer.direction === 'D2H');
  // Read back under a branch of the loop (`if (step % 50 === 0) await loss.item()`) is the advice taken already.
  const readbackLoops = loopLines(readbacks, (transfer) => byUser(transfer) && transfer.someIterations !== true);
  // A loop that moves its tensors to the host each step, whose next step's ops the policy then
  // moved back (h = h.matMul(w); await h.to('cpu')): both are the one advice, keep them on the GPU.
  // Told apart, the moves back got "move the batch once" and "repeat your x.to('cpu')" beside it.
  const undone = readbackLoops.some(movesToHost)
    ? new Set(report.transfers.filter((transfer) => transfer.cause === 'implicit' && transfer.reverses?.cell === cell && transfer.reverses.operation !== 'model.to'))
    : new Set<ReportTransfer>();
  const moves = report.transfers.filter((transfer) => !transfer.scalar && !undone.has(transfer));
  const uploads = moves.filter((transfer) => transfer.direction === 'H2D');
  for (const group of loopLines(uploads, byUser)) hints.push(uploadHint(group, report));
  for (const group of readbackLoops) {
    const first = group[0]!;
    const count = withFolded(group, report).count;
    // A tensor moved to the host (h.to('cpu')) is not a value read: the advice is where it lives.
    if (movesToHost(group)) {
      const move = group.every((transfer) => transfer.operation === 'cpu') ? '.cpu()' : `.to('${first.to}')`;
      const back = undone.size === 0 ? '' : ` (the device policy moved ${undone.size === 1 ? 'one' : undone.size} back to ${first.from} for the next step's ops, which this saves too)`;
      hints.push(`a GPU→host move ${at(first, cell)} on every iteration (${count}×, ${move} per step)${back}: keep the tensors on ${first.from} through the loop, and move what you need to the host once, after it.`);
    } else if (inFlightTogether(group)) {
      // `await Promise.all(outs.map((o) => o.data()))`, or a loop's reads awaited after it: one stacked read does it.
      // tf.stack needs one shape: tensors of other sizes go flattened, end to end.
      const oneSize = group.every((transfer) => transfer.bytes === first.bytes);
      hints.push(oneSize
        ? `${count} GPU→host readbacks ${at(first, cell)}, in flight together: stack the tensors and read them back once `
          + `(\`await tf.stack(tensors).data()\`), one readback instead of ${count}.`
        : `${count} GPU→host readbacks ${at(first, cell)}, in flight together: join the tensors and read them back once `
          + `(\`await tf.concat(tensors.map((t) => t.flatten())).data()\`, then split the values by each tensor's size), one readback instead of ${count}.`);
    } else {
      // The read as the line calls it (.data(), .array(), .item()): "e.g. await loss.data()" read as another line's.
      const reads = [...new Set(group.map((transfer) => `.${transfer.operation}()`))].join(' or ');
      hints.push(`a GPU→host readback ${at(first, cell)} on every iteration (${count}×, ${reads} per step): read back every N steps, or keep the running value on the device.`);
    }
  }
  // tfjs-layers' trainOnBatch awaits its loss's data() before it returns: one readback per call.
  for (const group of loopLines(readbacks, (transfer) => transfer.via.call === 'trainOnBatch')) {
    const values = group.length / calls(group) > 1 ? 'its loss and metrics' : 'its loss';
    hints.push(`trainOnBatch reads ${values} back on every call (${countWithFolded(group, report)}× ${at(group[0]!, cell)}, each step of your loop): model.fit over the same batches reads ${values === 'its loss' ? 'it' : 'them'} back once per epoch.`);
  }
  // fit reads each batch's logs back only for a callback object with onBatchEnd (tfjs-layers' CustomCallback).
  for (const group of byLine(readbacks.filter((transfer) => transfer.via.by === 'library' && transfer.via.perBatchLogs === true)).values()) {
    if (group.length < LOOP_CALLS) continue;
    hints.push(`${group[0]!.via.call} read every batch's logs back (${group.length}× ${at(group[0]!, cell)}) because a callback has onBatchEnd: `
      + 'read the logs in onEpochEnd instead, or use a larger batchSize (fewer batches, fewer readbacks).');
  }
  // Uploads of host values at first use are not the policy's moves.
  const implicit = moves.filter((transfer) => transfer.cause === 'implicit' && !transfer.untimed && transfer.via.by !== 'kernel');
  // Where the policy undid the user's move, its other moves to the same device at that line (a
  // trainOnBatch's constants, the optimizer's scalars) have the same cause: they are told in that
  // hint, not in hints of their own that advise the opposite of it (make the model on gpu:0).
  const reversedAt = new Set(implicit.filter((transfer) => transfer.reverses !== null).map(lineAndTarget));
  const sameCause = (transfer: ReportTransfer): boolean => transfer.cause === 'implicit' && !transfer.untimed && transfer.reverses === null && reversedAt.has(lineAndTarget(transfer));
  for (const group of byLine(implicit.filter((transfer) => transfer.reverses !== null)).values()) {
    const first = group[0]!;
    const others = report.transfers.filter((transfer) => sameCause(transfer) && lineAndTarget(transfer) === lineAndTarget(first)).length;
    const withOthers = others === 0 ? '' : ` (and ${others} other tensor${others === 1 ? '' : 's'} made on ${first.from} for it)`;
    const reversed = first.reverses!;
    const what = first.via.by === 'library' && first.via.call ? first.via.call : [...new Set(group.map((transfer) => transfer.operation))].slice(0, 3).join(', ');
    // A weight named by its model (fit's `m`) was put there by no `m.to()` unless model.to did it (a
    // clone moved to the host and given back with setWeights): then no name, not a wrong one.
    const named = group.some((transfer) => transfer.modelInput === true) && reversed.operation !== 'model.to' ? null : namesOf(group);
    // A tensor method (to, cpu, cuda) reads as the call the user wrote; model.to is named already.
    const mover = reversed.operation.includes('.') ? reversed.operation
      : named !== null ? listText(named.map((name) => `${name}.${reversed.operation}()`)) : `<that tensor>.${reversed.operation}()`;
    // "the input" read as the tensor the policy moved, which was on the right device already: the
    // advice is about the op's input that sits on the GPU, the first op's (the step's later ops
    // are drawn by its results, already on the GPU).
    const anchor = first.anchor;
    const other = otherInput(anchor, ofFirstOp(group));
    const back = moveBack(anchor, first.from);
    const them = group.length === 1 ? 'it' : 'them';
    // The user put that input on the GPU since (model.to('gpu:0') after evaluating on the host): the
    // newer choice is the run's, and "repeat your x.to('cpu')" sent them round in a loop.
    const chosen = anchor?.placedBy?.by === 'user' && anchor.placedBy.cell >= reversed.cell ? anchor.placedBy : null;
    if (chosen !== null) {
      const explicit = explicitMoves(named, first.to);
      // The user's call as written: "where w.to() put it", not "where to put it".
      const putBy = chosen.operation.includes('.') ? chosen.operation : `${anchor?.said ?? '<that input>'}.${chosen.operation}()`;
      const before = first.via.by === 'library' && first.via.call !== null ? ` before ${first.via.call}` : '';
      hints.push(`the device policy moved ${group.length} tensor${group.length === 1 ? '' : 's'} that ${mover} had put on ${first.from} (cell ${reversed.cell}) `
        + `to ${first.to} ${at(first, cell)} for ${what}${withOthers}, because ${other} is on ${first.to}, where ${putBy} put it (cell ${chosen.cell}): `
        + `to run on ${first.to}, make ${them} explicit with ${explicit}${before}; to run on ${first.from}, move that input back with ${back}.`);
      continue;
    }
    const byPolicy = anchor?.placedBy?.by === 'policy' ? anchor.placedBy : null;
    // The input on the GPU may be there by the policy's own earlier move: then undoing the user's
    // move again is not the advice; putting that input back is (a model's weights with model.to).
    const because = byPolicy !== null
      ? `${other} is on ${first.to}, where the device policy moved it in cell ${byPolicy.cell} (for ${byPolicy.operation}): move it back with ${back}`
      : reversed.toCurrentDevice
        ? `${other} is on ${first.to}, where new tensors are made (%device ${first.to}): make that input on ${first.from} `
          + `(await withDevice('${first.from}', () => …) or %device ${first.from}) or move it with ${back}`
        : `${other} is on ${first.to}: move that input with ${back}`;
    // Following that alone left this cell's moves in place: the next call moved the other way.
    hints.push(`the device policy moved ${group.length} tensor${group.length === 1 ? '' : 's'} that ${mover} had put on ${first.from} (cell ${reversed.cell}) `
      + `back to ${first.to} ${at(first, cell)} for ${what}${withOthers}, because ${because}; and as this cell put ${them} back on ${first.to}, `
      + `repeat your ${listText((named !== null && !reversed.operation.includes('.') ? named : ['<that tensor>']).map((name) => userMove(reversed.operation, first.from, name)))} of cell ${reversed.cell}.`);
  }
  for (const group of byLine(implicit.filter((transfer) => transfer.reverses === null && !sameCause(transfer))).values()) {
    const ops = [...new Set(group.map((transfer) => transfer.operation))].slice(0, 3).join(', ');
    const count = countWithFolded(group, report);
    const first = group[0]!;
    const them = count === 1 ? 'it' : 'them';
    const anchor = first.anchor;
    const drawn = drawnBy(anchor, first.to, ofFirstOp(group));
    // The other way, where the user may not have chosen the GPU: that input, and these moves, back on the host.
    const put = anchor?.placedBy?.by === 'policy' || isWeight(anchor) ? moveBack(anchor, first.from) : `withDevice('${first.from}', …) or %device ${first.from}`;
    const otherWay = drawn === '' ? '' : `, or, to run ${them} on ${first.from}, put that input there (${put}) and move ${them} back too (${them === 'it' ? 'it is' : 'they are'} on ${first.to} now)`;
    // The input as the line names it (`z` of `x.matMul(z)`), where every move of the group was that one.
    // Else a placeholder that reads as none of the user's variables (`x` was often their GPU tensor's name).
    // Each named (fit's x and y, moved for its GatherV2): each one's move, before the call.
    const moves = explicitMoves(namesOf(group), first.to);
    const inCall = first.via.by === 'library' && first.via.call !== null ? `, in ${first.via.call}` : '';
    hints.push(`${count} move${count === 1 ? '' : 's'} made for you by the device policy ${at(first, cell)} (${ops}${inCall})${drawn}: `
      + `make ${them} explicit with ${moves}${inCall === '' ? '' : ` before ${first.via.call}`}${otherWay}.`);
  }
  // tf.scalar(lr) each step of the user's loop, made on the GPU: each is uploaded at first use.
  const madeScalars = report.transfers.filter((transfer) => transfer.scalar && transfer.direction === 'H2D' && transfer.untimed);
  for (const group of loopLines(madeScalars, byUser)) {
    hints.push(`${countWithFolded(group, report)} host scalars made ${at(group[0]!, cell)} went to ${group[0]!.to} one by one, each uploaded at first use: `
      + 'make them once, before the loop (const lr = tf.scalar(…) outside it), or pass plain numbers where the op takes them.');
  }
  const scalars = report.transfers.filter((transfer) => transfer.scalar && transfer.direction === 'H2D' && !transfer.untimed && transfer.via.by !== 'kernel' && !sameCause(transfer));
  if (scalars.length >= LOOP_CALLS) {
    const to = scalars[0]!.to;
    const count = countWithFolded(scalars, report, false);
    // An optimizer made on the host keeps its learning rate and constants there: the library moves them each step.
    hints.push(scalars.every((transfer) => transfer.via.by === 'library')
      ? `${count} host scalars (learning rate, constants) went to ${to} one by one: make the model and optimizer on ${to} (%device ${to} before making them) so they are created there.`
      : `${count} scalars went from the host to ${to} one by one, one move per use: make them on ${to}, once, before they are used `
        + `(a number passed to an op becomes a scalar on the current device: %device ${to} or withDevice('${to}', …) makes it there).`);
  }
  // Once a session: after that the line's "(software)" says it (a hint on every cell hid the others).
  for (const device of usedSoftwareGpus(report).filter((use) => use.softwareTold !== true)) {
    hints.push(`${device.device} is a software GPU (lavapipe): its timings are the CPU's, not a GPU's.`);
  }
  return hints;
}
