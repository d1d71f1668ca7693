// Each move recorded once it has ended: the cell line and call it is credited to (a helper
// called from the cell's loop credits the loop's line), its time run on until its answer reaches
// the cell's code, and the collections it met named at the cell's end; into the ledger the report
// and %transfers read.
import { type CellLocation, type CellSource, type CellWork, DETACHED_CELL } from '../interpreter/cell-hooks';
import { currentCallArgs, currentCallSite, currentCallTarget, currentOrigin, nextInvocation, onceInCall } from './call-site';
import type { MoveOrigin, TransferListing, TransferRecord } from './device-control';
import type { BufferInfo, DataId, EngineLike } from './engine-internals';
import { callArgumentsOnLine, callReceiverOnLine, inputNameOnLine } from './input-names';
import { TransferLedger } from './ledger';
import { isGpuName, type MoveEvent } from './placement';
import type { PlacementIntent } from './placement-intent';
import type { StrayWork } from './stray-work';
import { creator, madeByCall, madeByUser } from './user-made';
import { CallAnswers } from './timing/call-answer';
import { CollectionWaits } from './timing/collections';
import { kernelWorkIn, kernelWorkKnownFrom, noteKernelWork } from './timing/kernel-work';
import { withKernelWork } from './timing/move-call';

/** tfjs-core names the scope of each op `<name>__op`. */
const OP_SCOPE = '__op';
/** Frames enough to reach the cell line of an op call from where the op makes its constant (x.mul(2) inside tf.tidy: the 11th). */
const OP_CONSTANT_FRAMES = 24;

/** A call made inside another (a library's, the kernel's) answers that one's caller, not the cell's code. */
const NO_ANSWER = (): void => undefined;

/** Where a move is credited: the cell line, the call that made it, and whether that line runs in the user's loop. */
export interface MoveSite {
  cell: number;
  line: number | null;
  via: MoveOrigin;
  inLoop: boolean;
  /** The loop runs the line only on some iterations (set only then). */
  someIterations?: true;
  helper?: { cell: number; line: number };
  /** The line lies in a function called from another line (set only then). */
  called?: true;
  /** A tensor made here was made inside a library call the kernel follows (fit, predict), not as an op's own constant (set only then). */
  inCall?: true;
}

/**
 * A library call's tensor arguments: each one's buffers, position, name on the call's line (null
 * where it gives none), and whether some of it is on the host.
 */
export interface PassedArguments {
  call: string;
  /** What the line calls it on (`m1.fit(…)`: m1), or null. */
  receiver: string | null;
  /** The model it was called on had weights on the host at the call's first policy move: ops drawn to a GPU by its data move them, and make their own tensors there. */
  modelOnHost: boolean;
  /** That model's weights' buffers. */
  weights: Set<BufferInfo>;
  args: { buffers: BufferInfo[]; name: string | null; position: number; onHost: boolean }[];
}

/** What recording needs of the session around it. */
export interface MoveRecordParts {
  engine: EngineLike;
  locate: (frames?: number) => CellLocation | null;
  cells: Pick<CellWork, 'owner'>;
  /** Other cells' leftover work, told apart from the running cell's. */
  stray: StrayWork;
  /** Who put each buffer where it is (a record says whether it undoes the user's move). */
  intent: PlacementIntent;
  /** The device `%device` chose. */
  currentDevice: () => string;
  /** Where a buffer is now. */
  deviceOf: (buffer: BufferInfo) => string;
  /** Splits the running cell's records' waits by the GPU's times so far, before the ledger folds them. */
  splitBeforeFold: (records: TransferRecord[]) => void;
}

/**
 * The name a library call's line gives `buffer` where the call holds it: the argument's (null where
 * the line gives that argument none), or the model's for one of its weights; undefined where the
 * call holds it neither way.
 */
function heldInCall(passed: PassedArguments, buffer: BufferInfo): string | null | undefined {
  const arg = passed.args.find((one) => one.buffers.includes(buffer));
  if (arg !== undefined) return arg.name;
  return passed.weights.has(buffer) ? passed.receiver : undefined;
}

export class MoveRecords {
  private readonly ledger = new TransferLedger();
  /** Users' calls whose records were made and whose answers are still on their way to the cell's code. */
  private readonly answers = new CallAnswers();
  /** The thread's garbage collections: moves' waits name those they held up. */
  private readonly collections = new CollectionWaits((span) => kernelWorkIn(span).pieces, kernelWorkKnownFrom);
  /** The site last worked out for a tensor made inside a library call, with what it was worked out from. */
  private lastCallSite: { origin: MoveOrigin; where: CellLocation | null; shallow: boolean; site: MoveSite } | null = null;
  /** Each cell's source, as far as the hints need it: which of its lines lie inside the user's loops. */
  private readonly sources = new Map<number, CellSource>();
  /** The running cell: its number and when it started, on performance.now()'s clock. */
  private cell = { number: 0, startedAt: performance.now() };

  constructor(private readonly parts: MoveRecordParts) {
    this.ledger.beforeFold = (records) => parts.splitBeforeFold(records);
  }

  beginCell(number: number, startedAt: number, source: CellSource): void {
    this.cell = { number, startedAt };
    this.sources.set(number, source);
    this.ledger.beginCell(startedAt, number);
  }

  /** The running cell's moves, its answered calls' records lengthened; those still unanswered stay as they are. */
  endCell(ranOps: boolean): ReturnType<TransferLedger['endCell']> {
    this.answers.endCell();
    return this.ledger.endCell(ranOps);
  }

  /** Names the collections the cell's moves met in their waits (their entries are in only now). */
  nameCollections(moves: readonly TransferRecord[]): Promise<void> {
    return this.collections.name(moves.map((move) => ({ move, start: this.cell.startedAt + move.at })));
  }

  /** The variable the running code's line passes as the input `key` of the op running `kernelName`, or null (input-names.ts). */
  inputName(key: string, kernelName: string): string | null {
    const where = this.parts.locate();
    // Inside a function called from another line, the op's line names the function's parameter.
    if (where === null || where.callSite !== undefined) return null;
    return inputNameOnLine(this.sources.get(where.cell)?.lineText(where.line) ?? '', key, kernelName);
  }

  /**
   * The library call running (fit, predict) and the tensors passed to it, each argument's buffers
   * with the name its line passes it by (`model.fit(bx, by)`: bx), or null where the line does not
   * say (an expression, an array of tensors). Null outside a library call.
   */
  passedArguments(): PassedArguments | null {
    const origin = currentOrigin();
    const args = currentCallArgs();
    if (origin?.by !== 'library' || origin.call === null || args === null) return null;
    const tensorInfo = this.parts.engine.state.tensorInfo;
    // A tensor, or an array or a dict of them (fit's inputs by name).
    const buffersOf = (arg: unknown, depth = 0): BufferInfo[] => {
      if (arg === null || typeof arg !== 'object' || depth > 2) return [];
      const dataId = (arg as { dataId?: DataId }).dataId;
      if (dataId !== undefined) {
        const info = tensorInfo.get(dataId);
        return info === undefined ? [] : [info];
      }
      if (Array.isArray(arg)) return arg.flatMap((one) => buffersOf(one, depth + 1));
      // Inputs by name ({ inp: x }); not an options object ({ epochs: 1, validationData: […] }), whose
      // tensors the advice would name as "fit's argument 3".
      const values = Object.getPrototypeOf(arg) === Object.prototype ? Object.values(arg) : [];
      return values.every((one) => (one as { dataId?: DataId } | null)?.dataId !== undefined) ? values.flatMap((one) => buffersOf(one, depth + 1)) : [];
    };
    // The call's line, read once per call (every policy move in fit's batches asks).
    const { names, receiver } = onceInCall('line', () => {
      const where = currentCallSite();
      const line = where === null ? '' : this.sources.get(where.cell)?.lineText(where.line) ?? '';
      return { names: callArgumentsOnLine(line, origin.call!), receiver: callReceiverOnLine(line, origin.call!) };
    });
    const onHost = (buffer: BufferInfo): boolean => !isGpuName(this.parts.deviceOf(buffer));
    const passed = args.map((arg, position) => {
      const buffers = buffersOf(arg);
      // An array or dict of tensors at that place is no one name.
      const name = (arg as { dataId?: DataId } | null)?.dataId === undefined ? null : names[position] ?? null;
      return { buffers, name, position, onHost: buffers.some(onHost) };
    });
    // As at the call's first policy move: the moves take the weights to the GPU one by one, and fit
    // goes on making its batch indices on the host all the same.
    // A buffer keeps its BufferInfo across moves: the set holds for the whole call.
    const weights = onceInCall('weights', () => new Set(((currentCallTarget() as { weights?: { read(): { dataId?: DataId } }[] } | undefined)?.weights ?? [])
      .flatMap((weight) => buffersOf(weight.read()))));
    const modelOnHost = onceInCall('modelOnHost', () => [...weights].some(onHost));
    return { call: origin.call, receiver, modelOnHost, weights, args: passed.filter((arg) => arg.buffers.length > 0) };
  }

  /**
   * The name advice gives a tensor a library call's op moved: the argument that holds it (fit's
   * x), or, for one made inside the call (predict's slice of its x), the one argument on the host.
   */
  private nameInCall(buffer: BufferInfo): string | null {
    const passed = this.passedArguments();
    if (passed === null) return null;
    // An argument's, or a model's weight on the host (the model left there): the model moves.
    const held = heldInCall(passed, buffer);
    if (held !== undefined) return held;
    // Made inside the call from the one argument still on the host (predict's slice of its x), or,
    // with the model left on the host, by the call itself there (fit's batch indices).
    const onHost = passed.args.filter((one) => one.onHost);
    if (onHost.length === 1) return onHost[0]!.name;
    return passed.modelOnHost ? passed.receiver : null;
  }

  /**
   * How a library call's line names an op's input already on the GPU: the argument that holds it,
   * or the model whose weight it is (the call's receiver).
   */
  private anchorInCall(buffer: BufferInfo): string | null {
    const passed = this.passedArguments();
    return passed === null ? null : heldInCall(passed, buffer) ?? null;
  }

  /** The cell's source as the kernel keeps it (its lines' text, its loops). */
  sourceOf(cell: number): CellSource | undefined {
    return this.sources.get(cell);
  }

  transfers(scope: 'last' | 'all'): TransferListing {
    this.answers.settle();
    return this.ledger.listing(scope);
  }

  /** The moves the code of cell `madeBy` made so far. */
  totals(madeBy: number): ReturnType<TransferLedger['totals']> {
    this.answers.settle();
    return this.ledger.totals(madeBy);
  }

  reset(): void {
    this.ledger.reset();
  }

  /** For the user's call running now (x.to(), x.data()): what to call as its answer reaches the cell's code. */
  answerer(): () => void {
    const origin = currentOrigin();
    if (origin?.by !== 'user') return NO_ANSWER;
    return () => this.answers.answered(origin.invocation);
  }

  /** A move placement or the transfer engine finished: credited to the running call's site. */
  record(event: MoveEvent): void {
    // The user's call was located where it was made; tfjs-layers reads back in .then() callbacks,
    // which lose the cell's frame: the library call's site is carried.
    const where = (currentOrigin()?.by === 'user' ? currentCallSite() : null) ?? this.parts.locate() ?? currentCallSite();
    // An op's implicit move outside any tracked call is one call of the user's statement.
    this.recordAt(event, this.siteOf(where, currentOrigin() ?? { by: 'user', call: null, invocation: nextInvocation() }));
  }

  /**
   * Where a tensor made on a GPU from host values was made, for its upload later. Inside a
   * library call (fit making its scalars) the call's site is known without a stack capture.
   */
  creationSite(): MoveSite {
    const origin = currentOrigin();
    // A constant a tfjs op makes (the 2 of x.mul(2)) is made once per op: its line is a few frames
    // up, and reading only those keeps a GPU op's cost near what it was without this record.
    const scope = this.parts.engine.state.activeScope?.name ?? '';
    const shallow = !madeByUser() && scope.endsWith(OP_SCOPE);
    const inCall = origin !== null && madeByCall(origin);
    const where = inCall ? currentCallSite() : this.parts.locate(shallow ? OP_CONSTANT_FRAMES : undefined) ?? currentCallSite();
    // Inside one library call (trainOnBatch making Adam's scalars, ~30 a step) every tensor gets the
    // same site: the last one is reused rather than worked out again for each.
    const last = this.lastCallSite;
    if (inCall && last !== null && last.origin === origin && last.where === where && last.shallow === shallow) return last.site;
    // A few frames hold the op's line, not the running cell's outermost call site.
    const own = shallow && where !== null ? { cell: where.cell, line: where.line } : where;
    // What tfjs makes for itself (an op's constants, a gradient's ones, an optimizer's scalars) is
    // the library's, not a tensor the user made: no hint tells the user to move it.
    const made = this.siteOf(own, creator(origin, scope.endsWith(OP_SCOPE) ? scope.slice(0, -OP_SCOPE.length) : null, nextInvocation));
    const site = inCall ? { ...made, inCall: true as const } : made;
    if (inCall) this.lastCallSite = { origin, where, shallow, site };
    return site;
  }

  /**
   * The line a move is credited to: its own, unless it lies in a function called from a loop of
   * the running cell; then the call site's (the loop's line), with the function's line as `helper`.
   */
  private siteOf(where: CellLocation | null, via: MoveOrigin): MoveSite {
    const inLoop = (at: { cell: number; line: number }): boolean => this.sources.get(at.cell)?.inLoop(at.line) ?? false;
    const some = (at: { cell: number; line: number }): { someIterations?: true } => (this.sources.get(at.cell)?.someIterations(at.line) === true ? { someIterations: true } : {});
    if (where === null) return { cell: this.cell.number, line: null, via, inLoop: false };
    const { callSite, ...inner } = where;
    // Only a loop of the caller's moves the credit: a line of a callback or helper stays its own otherwise.
    if (callSite === undefined) return { cell: inner.cell, line: inner.line, via, inLoop: inLoop(inner), ...some(inner) };
    if (inLoop(inner) || !inLoop(callSite)) return { cell: inner.cell, line: inner.line, via, inLoop: inLoop(inner), ...some(inner), called: true };
    return { cell: callSite.cell, line: callSite.line, via, inLoop: true, ...some(callSite), helper: inner };
  }

  /** A finished move, credited to `site` (an upload at first use: where its tensor was made). */
  recordAt(event: MoveEvent, site: MoveSite): void {
    // Earlier calls' answers, lengthened before this one is recorded: a loop of a million moves keeps none of them.
    this.answers.settle();
    // Another cell's leftover work (an interrupted cell's upload that went on) moved it: not this
    // cell's report, but the session's moves all the same (%transfers all listed none of 128 MiB moved).
    const owner = this.parts.cells.owner();
    const stray = !this.parts.stray.owns(owner, this.cell.number);
    if (stray) this.parts.stray.countMove();
    // Detached work is meant to outlive every cell: no report or listing counts it.
    if (stray && owner === DETACHED_CELL) return;
    // Its time ends here (`end`); making the record is after it: a call's record and its answer's
    // way to the cell's code are timed from `end` on (CallAnswers). A 15 ms pause while the record
    // was made showed nowhere.
    const { waitMs, waits, end } = withKernelWork(event);
    const ms = waitMs + event.copyMs;
    const record: TransferRecord = {
      direction: event.direction, from: event.from, to: event.to, bytes: event.bytes, ms, waitMs, copyMs: event.copyMs, waits,
      cause: event.explicit ? 'explicit' : 'implicit', operation: event.operation,
      // A stray move is listed under the cell whose work made it (its line may be unknown: the stack is the kernel's).
      cell: stray && owner !== null && owner !== site.cell ? owner : site.cell, line: stray && owner !== null && owner !== site.cell ? null : site.line, at: end - ms - this.cell.startedAt, scalar: event.scalar,
      via: site.via, inLoop: site.inLoop, reverses: this.parts.intent.reversal(event, this.parts.currentDevice()),
    };
    if (site.someIterations === true) record.someIterations = true;
    // Set only when there is one (a training step records ~30 uploads: no spread objects for them).
    if (event.legs !== undefined) record.legs = event.legs;
    if (event.anchor !== undefined) {
      record.anchor = this.parts.intent.anchor(event.anchor, event.to, this.parts.currentDevice());
      if (event.buffer !== undefined) this.parts.intent.policyPlaced(event.buffer, event.to, site.via.call ?? event.operation, this.cell.number);
      // The hints' "move that input back with await w.to('cpu')": a name the line gives it, else a placeholder.
      const said = site.line === null || site.helper !== undefined || site.called === true ? null
        : site.via.by === 'library' ? this.anchorInCall(event.anchor.buffer)
          : inputNameOnLine(this.sources.get(site.cell)?.lineText(site.line) ?? '', event.anchor.input, event.operation);
      if (said !== null) record.anchor.said = said;
    }
    // Not in a helper the loop calls: its line names its parameter, unknown where the advice points.
    if (event.input !== undefined && site.line !== null && site.helper === undefined && site.called !== true) {
      // Inside a library call (fit's batches), the tensor passed to it, as its line names it.
      const name = site.via.by === 'library' ? (event.buffer === undefined ? null : this.nameInCall(event.buffer))
        : inputNameOnLine(this.sources.get(site.cell)?.lineText(site.line) ?? '', event.input, event.operation);
      if (name !== null) record.input = name;
      // Named for the model it belongs to (a weight): `m.to('cpu')` moves it, `m.to()` never moved it alone.
      if (name !== null && site.via.by === 'library' && event.buffer !== undefined && this.passedArguments()?.weights.has(event.buffer) === true) record.modelInput = true;
    }
    if (event.untimed !== undefined) record.untimed = event.untimed;
    if (event.untimed === true && event.opResult !== true && site.inCall === true && site.via.by === 'library') record.callsOwn = true;
    if (event.copyOnThread === true) this.collections.copiedOnThreadBy(record);
    if (site.helper !== undefined) record.helper = site.helper;
    const madeBy = stray && owner !== null ? owner : this.cell.number;
    const adding = performance.now();
    // Folding older records (every 10,000th) holds the thread 230–350 ms: the kernel's work, after
    // the move's end, which showed as host busy on the read that made it (200 ms once).
    if (this.ledger.add(record, stray, madeBy)) noteKernelWork(adding, performance.now());
    // Timed from the user's own call: its time runs on until the answer reaches the cell's code.
    if (event.calledAt !== undefined && !stray && site.via.by === 'user') {
      this.answers.recorded(site.via.invocation, event.direction, event.from, event.to, end,
        (waits) => this.ledger.lengthen(record, end, waits, madeBy), performance.now());
    }
  }
}
