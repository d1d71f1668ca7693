// One loaded device layer: the parts that place ops, move and read tensors, keep the ledger and
// watch memory, wired together, and answered through DeviceControl (magics) and TensorMover (the
// tensor API). Each job lives in its own module; this file only connects them.
import { DETACHED_CELL, type CellLocation, type CellSource, type ReportToShow } from '../interpreter/cell-hooks';
import type { DeviceControl, DeviceInfo, DeviceMemory, DevicePolicy, GarbageCollection, MoveOrigin, TransferListing, TransferRecord } from './device-control';
import type { DeviceLayerDependencies } from './device-layer';
import type { EngineLike, TensorLike } from './engine-internals';
import { assembleCellReport, placementText } from './cell-report-assembly';
import { currentCallSite, currentOrigin, nextInvocation, withCall } from './call-site';
import { GpuFaults } from './gpu-faults';
import { TransferLedger } from './ledger';
import { closeInterruptedScopes } from './interrupted-engine';
import { closeInterruptedFastPath } from './train/fast-path';
import { MemoryControl } from './memory-control';
import { PlacementIntent } from './placement-intent';
import { type MoveEvent, Placement } from './placement';
import { OpProfiler } from './profile/op-profiler';
import { ReadyBackends } from './ready-backends';
import { DeviceRegistry } from './registry';
import { StrayWork } from './stray-work';
import { createAsTensor, extendTensors, type TensorMover } from './tensor-api';
import { TensorFinalizer } from './tensor-finalizer';
import { TensorMoves } from './tensor-moves';
import { creator, madeByCall, madeByUser, userCreation } from './user-made';
import { installFusedAdam } from './train/adam-update';
import { installTrainingKernels } from './train/install';
import { installTrainStep } from './train/train-step';
import { loadTfjs, type Tfjs } from './tfjs';
import { CallAnswers } from './timing/call-answer';
import { GpuTiming } from './timing/gpu-timing';
import { MoveCall, withKernelWork } from './timing/move-call';
import { splitGpuWaits } from './timing/move-waits';
import { CollectionWaits } from './timing/collections';
import { kernelWorkIn } from './timing/kernel-work';
import { TransferEngine } from './transfer/transfer-engine';
import { watchVariableAssign } from './variable-assign';

/** tfjs-core names the scope of each op `<name>__op`. */
const OP_SCOPE = '__op';
/** Frames enough to reach the cell line of an op call from where the op makes its constant (x.mul(2) inside tf.tidy: the 11th). */
const OP_CONSTANT_FRAMES = 24;

/** A call made inside another (a library's, the kernel's) answers that one's caller, not the cell's code. */
const NO_ANSWER = (): void => undefined;

/** Where a move is credited: the cell line, the call that made it, and whether that line runs in the user's loop. */
interface MoveSite {
  cell: number;
  line: number | null;
  via: MoveOrigin;
  inLoop: boolean;
  /** The loop runs the line only on some iterations (set only then). */
  someIterations?: true;
  helper?: { cell: number; line: number };
}

export class DeviceSession implements DeviceControl, TensorMover {
  private readonly placement: Placement;
  readonly ledger = new TransferLedger();
  private readonly finalizer: TensorFinalizer;
  private readonly warned = new Set<string>();
  private currentDevice = 'cpu';
  private reportMode: 'off' | 'compact' | 'full' = 'full';
  private cellStartedAt = performance.now();
  private cellNumber = 0;
  private liveBefore = new Map<string, number>();
  private readonly engine: EngineLike;
  readonly transferEngine: TransferEngine;
  private readonly backends: ReadyBackends;
  private readonly moves: TensorMoves;
  private readonly memoryControl: MemoryControl;
  private readonly gpuFaults: GpuFaults;
  private readonly stray = new StrayWork();
  /** Users' calls whose records were made and whose answers are still on their way to the cell's code. */
  private readonly answers = new CallAnswers();
  /** The thread's garbage collections: moves' waits name those they held up. */
  private readonly collections = new CollectionWaits((span) => kernelWorkIn(span).pieces);
  /**
   * Each started GPU's clock: when it was busy, from its own timestamps, and whose work it was: the
   * cell whose code queued it (an earlier cell's timer queues that cell's work, detached work is
   * cell 0's), or the running cell for the kernel's own. A cell showed an earlier cell's timer's
   * 157 ms of matMuls as its own GPU time, having run no GPU op.
   */
  private readonly timing = new GpuTiming(() => this.deps.cells.owner() ?? this.cellNumber);
  private readonly profiler: OpProfiler;
  /** Who put each buffer where it is: a hint never advises undoing the user's move. */
  private readonly intent = new PlacementIntent();
  /** The site last worked out for a tensor made inside a library call, with what it was worked out from. */
  private lastCallSite: { origin: MoveOrigin; where: CellLocation | null; shallow: boolean; site: MoveSite } | null = null;
  /** Each cell's source, as far as the hints need it: which of its lines lie inside the user's loops. */
  private readonly sources = new Map<number, CellSource>();

  constructor(private readonly tfjs: Tfjs, readonly registry: DeviceRegistry, private readonly deps: DeviceLayerDependencies) {
    const engine = tfjs.core.engine() as unknown as EngineLike;
    this.engine = engine;
    this.transferEngine = new TransferEngine(engine);
    // Before Placement, which lists the kernels wasm has once.
    installFusedAdam(tfjs.core);
    installTrainingKernels(tfjs.core);
    this.placement = new Placement(engine, {
      move: (event) => this.record(event),
      placed: (buffer, device, operation) => {
        if (operation !== null) this.intent.userPlaced(buffer, device, operation, this.cellNumber);
      },
      warn: (kernelName, message) => this.warnOnce(kernelName, message),
      created: () => this.creationSite(),
      uploaded: (event, site) => this.recordAt(event, site as MoveSite),
      explicitPlacement: (buffer) => this.intent.explicit(buffer),
      libraryCall: () => {
        const origin = currentOrigin();
        return origin?.by === 'library' ? origin.call : null;
      },
    }, (backend) => tfjs.core.getKernelsForBackend(backend).map((kernel) => kernel.kernelName), this.transferEngine);
    this.placement.ownsOp = () => this.stray.owns(deps.cells.check(), this.cellNumber);
    this.placement.install();
    watchVariableAssign(tfjs.core, {
      deviceOfData: (dataId) => this.placement.deviceOfData(dataId),
      bufferOf: (dataId) => engine.state.tensorInfo.get(dataId),
      warn: (kernelName, message) => this.warnOnce(kernelName, message),
      replaced: (before, after) => this.intent.carry(before, after),
    });
    this.profiler = new OpProfiler(engine, this.timing.clocks);
    // After Placement: its trackTensor accounts the bytes, this one only lists the tensor.
    this.finalizer = new TensorFinalizer(engine, {
      deviceOf: (dataId) => this.placement.deviceOfData(dataId),
      bytesOf: (dataId) => this.placement.deviceBytesOfData(dataId),
      live: () => Object.fromEntries(Object.entries(this.placement.live).map(([device, entry]) => [device, entry.bytes])),
    });
    this.finalizer.install();
    this.backends = new ReadyBackends(registry, this.placement, this.transferEngine, this.timing);
    this.moves = new TensorMoves({
      engine, placement: this.placement, registry, backends: this.backends, transferEngine: this.transferEngine, timing: this.timing,
      cells: deps.cells, emit: deps.emit, record: (event) => this.record(event),
    });
    this.memoryControl = new MemoryControl(engine, registry, this.placement, this.finalizer, this.transferEngine, this.backends);
    this.gpuFaults = new GpuFaults(registry);
    // Before extendTensors, which runs every model method (trainStep too) on the model's device.
    installTrainStep(tfjs.core, tfjs.layers);
    extendTensors(tfjs.core, tfjs.layers, this);
    Object.assign(globalThis, {
      tf: tfjs.namespace,
      asTensor: userCreation(createAsTensor(tfjs.core)),
      // Synchronous, so it answers from the GPUs found so far: a cell naming `device` looks for them first.
      device: (name: string) => this.registry.resolve(name),
      bestDevice: () => this.registry.best(),
      withDevice: <T>(name: string, run: () => T | Promise<T>) => this.withDevice(name, async () => run()),
    });
  }

  static async load(deps: DeviceLayerDependencies): Promise<DeviceSession> {
    const tfjs = await loadTfjs();
    return new DeviceSession(tfjs, new DeviceRegistry(tfjs.core), deps);
  }

  /** %report: with it off (and no %profile) the GPU clocks still time the work (a later report's waits may be for it), but moves do not read the times along. */
  get report(): 'off' | 'compact' | 'full' {
    return this.reportMode;
  }

  set report(mode: 'off' | 'compact' | 'full') {
    this.reportMode = mode;
    this.updateClocks();
  }

  private updateClocks(): void {
    this.timing.setReadAlong(this.reportMode !== 'off' || this.profile);
  }

  get policy(): DevicePolicy {
    return this.placement.policy;
  }

  set policy(policy: DevicePolicy) {
    this.placement.policy = policy;
  }

  // --- cell lifecycle ---------------------------------------------------------------------

  beforeRun(executionCount: number, source: CellSource): void {
    closeInterruptedScopes(this.engine);
    closeInterruptedFastPath();
    this.cellNumber = executionCount;
    this.sources.set(executionCount, source);
    this.cellStartedAt = performance.now();
    this.ledger.beginCell(this.cellStartedAt, this.cellNumber);
    this.finalizer.beginCell();
    this.placement.takeActivity();
    this.liveBefore = new Map(Object.entries(this.placement.live).map(([device, entry]) => [device, entry.bytes]));
  }

  /** The cell's report, or null when it touched no device or nothing is to be shown. */
  async afterRun(): Promise<ReportToShow | null> {
    // An interrupted move between GPUs stops within a chunk: what it carried is this cell's.
    await this.moves.stopped();
    const stray = this.stray.takeLine(this.placement.takeStray());
    if (stray) process.stderr.write(stray);
    // A profile waits for every op's GPU time; the plain report does not wait for a busy GPU.
    const profiled = !this.profiler.empty;
    // Unshown (%report off), the cell's end does not wait for the GPU's times: they go to the next report.
    const gpuTimes = await this.timing.collect(profiled ? 'all' : this.report === 'off' ? 'none' : 'settle');
    for (const { intervals } of gpuTimes.values()) this.profiler.addGpuTimes(intervals);
    const profile = profiled ? this.profiler.take() : null;
    const activity = this.placement.takeActivity();
    this.answers.endCell();
    const { moves, folded, foldedTime } = this.ledger.endCell(Object.keys(activity).length > 0);
    this.finalizer.endCell();
    if (Object.keys(activity).length === 0 && moves.length === 0 && folded.length === 0) {
      // No report for a cell that touched nothing: GPU work that arrived meanwhile (left running
      // by an earlier cell) shows with the next cell that reports, not nowhere.
      if (!profiled) this.timing.keep(gpuTimes);
      return null;
    }
    splitGpuWaits(moves, gpuTimes, this.cellNumber);
    await this.collections.name(moves.map((move) => ({ move, start: this.cellStartedAt + move.at })));
    const report = assembleCellReport({
      cell: this.cellNumber, startedAt: this.cellStartedAt, activity, moves, folded, foldedTime, gpuTimes, profile,
      known: this.registry.list(), liveBytes: (device) => this.placement.live[device]?.bytes ?? 0, liveBytesBefore: this.liveBefore,
      heldOnHostBytes: (device) => this.placement.live[device]?.hostBytes ?? 0,
    });
    const placement = this.placement.logKernels ? placementText(report) : null;
    if (placement) process.stdout.write(placement);
    // A profile asked for is shown even with %report off. Unshown, the GPU times that arrived
    // (earlier cells' work the cell waited for) go to the next report, as a cell without a report's do.
    if (this.report === 'off' && profile === null) {
      this.timing.keep(gpuTimes);
      return null;
    }
    return { report, mode: this.report === 'off' ? 'compact' : this.report };
  }

  faults(): Promise<string | null> {
    return this.gpuFaults.take();
  }

  /** %profile on|off: per-op host and GPU time (each GPU op then gets a compute pass of its own). */
  get profile(): boolean {
    return this.placement.profiler !== null;
  }

  set profile(on: boolean) {
    this.placement.profiler = on ? this.profiler : null;
    this.updateClocks();
  }

  get placementLog(): boolean {
    return this.placement.logKernels;
  }

  set placementLog(on: boolean) {
    this.placement.logKernels = on;
  }

  // --- DeviceControl ------------------------------------------------------------------------

  async list(): Promise<DeviceInfo[]> {
    await this.registry.discover();
    return this.registry.list();
  }

  problems(): string[] {
    return this.registry.problems();
  }

  current(): string {
    return this.currentDevice;
  }

  async setCurrent(name: string): Promise<string> {
    const device = await this.resolve(name);
    await this.backends.of(device);
    // Once per cell at most: tf.memory(), tf.time() and the profiler follow the current backend.
    await this.tfjs.core.setBackend(this.registry.backendName(device));
    this.currentDevice = device;
    return device;
  }

  async withDevice<T>(name: string, run: () => Promise<T>): Promise<T> {
    const previous = this.currentDevice;
    await this.setCurrent(name);
    try {
      return await run();
    } finally {
      await this.setCurrent(previous);
    }
  }

  memory(): DeviceMemory[] {
    return this.memoryControl.memory();
  }

  collectGarbage(): Promise<GarbageCollection> {
    return this.memoryControl.collectGarbage();
  }

  async setGcPressure(name: string, bytes: number): Promise<string> {
    const device = await this.resolve(name);
    this.memoryControl.setGcPressure(device, bytes);
    return device;
  }

  transfers(scope: 'last' | 'all'): TransferListing {
    this.answers.settle();
    return this.ledger.listing(scope);
  }

  /** The moves the running code's cell made so far (progress bars diff them): not other cells' leftover work's. */
  transferTotals(): ReturnType<TransferLedger['totals']> {
    this.answers.settle();
    return this.ledger.totals(this.deps.cells.owner() ?? this.cellNumber);
  }

  resetTransfers(): void {
    this.ledger.reset();
  }

  synchronize(): Promise<void> {
    return this.registry.synchronize();
  }

  // --- TensorMover ------------------------------------------------------------------------

  /** GPUs are looked for first unless the name is plainly the host. */
  async resolve(name: string): Promise<string> {
    if (name !== 'cpu' && !this.registry.discovered) await this.registry.discover();
    return this.registry.resolve(name);
  }

  deviceOf(tensor: TensorLike): string {
    return this.placement.deviceOfTensor(tensor) ?? 'disposed';
  }

  moveCall(device: unknown, calledAt?: number): MoveCall {
    // Watched (the cell's code told apart from the set-up's) only where the move may set its GPU up.
    return new MoveCall(!this.registry.discovered || this.mayNeedSetUp(device), calledAt);
  }

  private mayNeedSetUp(device: unknown): boolean {
    try {
      return !this.backends.isReady(this.registry.resolve(device as string));
    } catch {
      return false; // no such device: the move fails before it sets anything up
    }
  }

  settledOn(tensor: TensorLike, device: string): boolean {
    return this.moves.settledOn(tensor, device);
  }

  move(tensor: TensorLike, device: string, operation: string, call?: MoveCall): Promise<void> {
    return this.moves.move(tensor, device, operation, call);
  }

  read<T>(tensor: TensorLike, operation: string, read: () => Promise<T>, calledAt?: number): Promise<T> {
    return this.moves.read(tensor, operation, read, calledAt);
  }

  started(operation: string): (error?: unknown) => void {
    return this.deps.cells.started(operation);
  }

  answerer(): () => void {
    const origin = currentOrigin();
    if (origin?.by !== 'user') return NO_ANSWER;
    return () => this.answers.answered(origin.invocation);
  }

  onInterrupt(stop: () => void): () => void {
    return this.deps.cells.onInterrupt(stop);
  }

  deviceReadWhileMoving(call: string, target: string, device: string): void {
    // Disposed meanwhile: the move fails, and says so.
    if (device === 'disposed') return;
    // Already there (a second x.to('gpu:0')), or a name that resolves to nothing (the move fails): nothing misleads.
    try {
      if (this.registry.resolve(target) === device) return;
    } catch {
      return;
    }
    // The kernel's own reads name no cell line: only the cell's code is told.
    const where = this.deps.locate();
    if (where === null) return;
    // The tensor as the line names it (`x2.device`), where one name reads .device there; else `x`.
    const readers = new Set([...(this.sources.get(where.cell)?.lineText(where.line) ?? '').matchAll(/([A-Za-z_$][\w$]*)\s*\.\s*device\b/g)].map((match) => match[1]!));
    const tensor = readers.size === 1 ? [...readers][0]! : 'x';
    this.warnOnce('device-read-while-moving', `\`.device\` was read while \`${tensor}.${call}\` was still under way, so it says '${device}', `
      + `where the tensor is until the move lands. Await the move first: \`await ${tensor}.${call}\`.`);
  }

  runOn<T>(device: string, run: () => T): T {
    return this.placement.runOn(this.registry.backendName(device), run);
  }

  hasHostValues(tensor: TensorLike): boolean {
    return this.moves.hasHostValues(tensor);
  }

  /** Runs one call of `origin` (a library call, a kernel helper, the user's x.to()): the moves it makes, later ones included, are its. */
  asCall<T>(origin: Omit<MoveOrigin, 'invocation'>, call: () => T): T {
    // The user's own call is located from the stack at the call (read only if it moves anything):
    // awaited later, its async stack would name the await's line instead.
    return withCall(() => (origin.by === 'user' ? this.deps.locateLater() : this.deps.locate()), origin, call);
  }

  // --- internals --------------------------------------------------------------------------

  private record(event: MoveEvent): void {
    // The user's call was located where it was made; tfjs-layers reads back in .then() callbacks,
    // which lose the cell's frame: the library call's site is carried.
    const where = (currentOrigin()?.by === 'user' ? currentCallSite() : null) ?? this.deps.locate() ?? currentCallSite();
    // An op's implicit move outside any tracked call is one call of the user's statement.
    this.recordAt(event, this.siteOf(where, currentOrigin() ?? { by: 'user', call: null, invocation: nextInvocation() }));
  }

  /**
   * Where a tensor made on a GPU from host values was made, for its upload later. Inside a
   * library call (fit making its scalars) the call's site is known without a stack capture.
   */
  private creationSite(): MoveSite {
    const origin = currentOrigin();
    // A constant a tfjs op makes (the 2 of x.mul(2)) is made once per op: its line is a few frames
    // up, and reading only those keeps a GPU op's cost near what it was without this record.
    const scope = this.engine.state.activeScope?.name ?? '';
    const shallow = !madeByUser() && scope.endsWith(OP_SCOPE);
    const inCall = origin !== null && madeByCall(origin);
    const where = inCall ? currentCallSite() : this.deps.locate(shallow ? OP_CONSTANT_FRAMES : undefined) ?? currentCallSite();
    // Inside one library call (trainOnBatch making Adam's scalars, ~30 a step) every tensor gets the
    // same site: the last one is reused rather than worked out again for each.
    const last = this.lastCallSite;
    if (inCall && last !== null && last.origin === origin && last.where === where && last.shallow === shallow) return last.site;
    // A few frames hold the op's line, not the running cell's outermost call site.
    const own = shallow && where !== null ? { cell: where.cell, line: where.line } : where;
    // What tfjs makes for itself (an op's constants, a gradient's ones, an optimizer's scalars) is
    // the library's, not a tensor the user made: no hint tells the user to move it.
    const site = this.siteOf(own, creator(origin, scope.endsWith(OP_SCOPE) ? scope.slice(0, -OP_SCOPE.length) : null, nextInvocation));
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
    if (where === null) return { cell: this.cellNumber, line: null, via, inLoop: false };
    const { callSite, ...inner } = where;
    // Only a loop of the caller's moves the credit: a line of a callback or helper stays its own otherwise.
    if (callSite === undefined || inLoop(inner) || !inLoop(callSite)) return { cell: inner.cell, line: inner.line, via, inLoop: inLoop(inner), ...some(inner) };
    return { cell: callSite.cell, line: callSite.line, via, inLoop: true, ...some(callSite), helper: inner };
  }

  private recordAt(event: MoveEvent, site: MoveSite): void {
    // Earlier calls' answers, lengthened before this one is recorded: a loop of a million moves keeps none of them.
    this.answers.settle();
    // Another cell's leftover work (an interrupted cell's upload that went on) moved it: not this
    // cell's report, but the session's moves all the same (%transfers all listed none of 128 MiB moved).
    const owner = this.deps.cells.owner();
    const stray = !this.stray.owns(owner, this.cellNumber);
    if (stray) this.stray.countMove();
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
      cell: stray && owner !== null && owner !== site.cell ? owner : site.cell, line: stray && owner !== null && owner !== site.cell ? null : site.line, at: end - ms - this.cellStartedAt, scalar: event.scalar,
      via: site.via, inLoop: site.inLoop, reverses: this.intent.reversal(event, this.currentDevice),
    };
    if (site.someIterations === true) record.someIterations = true;
    // Set only when there is one (a training step records ~30 uploads: no spread objects for them).
    if (event.legs !== undefined) record.legs = event.legs;
    if (event.anchor !== undefined) {
      record.anchor = this.intent.anchor(event.anchor, event.to, this.currentDevice);
      if (event.buffer !== undefined) this.intent.policyPlaced(event.buffer, event.to, site.via.call ?? event.operation, this.cellNumber);
    }
    if (event.untimed !== undefined) record.untimed = event.untimed;
    if (event.copyOnThread === true) this.collections.copiedOnThreadBy(record);
    if (site.helper !== undefined) record.helper = site.helper;
    const madeBy = stray && owner !== null ? owner : this.cellNumber;
    this.ledger.add(record, stray, madeBy);
    // Timed from the user's own call: its time runs on until the answer reaches the cell's code.
    if (event.calledAt !== undefined && !stray && site.via.by === 'user') {
      this.answers.recorded(site.via.invocation, event.direction, event.from, event.to, end,
        (waits) => this.ledger.lengthen(record, end, waits, madeBy));
    }
  }

  private warnOnce(kernelName: string, message: string): void {
    const where = this.deps.locate();
    const site = where ? `cell ${where.cell}, line ${where.line}` : 'this cell';
    const key = `${site}:${kernelName}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    process.stderr.write(`Warning (${site}): ${message}\n`);
  }
}
