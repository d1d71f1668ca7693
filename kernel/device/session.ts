// One loaded device layer: the parts that place ops, move and read tensors, keep the ledger and
// watch memory, wired together, and answered through DeviceControl (magics) and TensorMover (the
// tensor API). Each job lives in its own module; this file only connects them.
import type { CellSource, ReportToShow } from '../interpreter/cell-hooks';
import type { DeviceControl, DeviceInfo, DeviceMemory, DevicePolicy, GarbageCollection, MoveOrigin, TransferListing } from './device-control';
import type { DeviceLayerDependencies } from './device-layer';
import type { EngineLike, TensorLike } from './engine-internals';
import { assembleCellReport, placementText } from './cell-report-assembly';
import { usedSoftwareGpus } from '../display/report/cell-report';
import { currentCallSite, currentOrigin, withCall } from './call-site';
import { GpuFaults } from './gpu-faults';
import type { TransferLedger } from './ledger';
import { closeInterruptedScopes } from './interrupted-engine';
import { closeInterruptedFastPath } from './train/fast-path';
import { MemoryControl } from './memory-control';
import { PlacementIntent } from './placement-intent';
import { Placement } from './placement';
import { type MoveSite, MoveRecords } from './move-records';
import { OpProfiler } from './profile/op-profiler';
import { ReadyBackends } from './ready-backends';
import { DeviceRegistry } from './registry';
import { StrayWork } from './stray-work';
import { createAsTensor, extendTensors, type TensorMover } from './tensor-api';
import { TensorFinalizer } from './tensor-finalizer';
import { TensorMoves } from './tensor-moves';
import { userCreation } from './user-made';
import { installFusedAdam } from './train/adam-update';
import { installTrainingKernels } from './train/install';
import { installTrainStep } from './train/train-step';
import { loadTfjs, type Tfjs } from './tfjs';
import { GpuTiming } from './timing/gpu-timing';
import { MoveCall } from './timing/move-call';
import { splitGpuWaits } from './timing/move-waits';
import { TransferEngine } from './transfer/transfer-engine';
import { watchVariableAssign } from './variable-assign';

export class DeviceSession implements DeviceControl, TensorMover {
  private readonly placement: Placement;
  private readonly finalizer: TensorFinalizer;
  private readonly warned = new Set<string>();
  private currentDevice = 'cpu';
  private reportMode: 'off' | 'compact' | 'full' = 'full';
  private cellStartedAt = performance.now();
  private cellNumber = 0;
  private liveBefore = new Map<string, number>();
  /** Software GPUs a report has named as such (the hint is given once a session). */
  private readonly softwareTold = new Set<string>();
  private readonly engine: EngineLike;
  readonly transferEngine: TransferEngine;
  private readonly backends: ReadyBackends;
  private readonly moves: TensorMoves;
  private readonly memoryControl: MemoryControl;
  private readonly gpuFaults: GpuFaults;
  private readonly stray = new StrayWork();
  /** Each finished move, credited and timed, in the ledger. */
  private readonly records: MoveRecords;
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

  constructor(private readonly tfjs: Tfjs, readonly registry: DeviceRegistry, private readonly deps: DeviceLayerDependencies) {
    const engine = tfjs.core.engine() as unknown as EngineLike;
    this.engine = engine;
    this.records = new MoveRecords({
      engine, locate: (frames) => deps.locate(frames), cells: deps.cells, stray: this.stray, intent: this.intent, currentDevice: () => this.currentDevice,
      deviceOf: (buffer) => this.placement.deviceOf(buffer.backend),
      splitBeforeFold: (records) => splitGpuWaits(records, this.timing.arrivedSoFar(), this.cellNumber),
    });
    this.transferEngine = new TransferEngine(engine);
    // Before Placement, which lists the kernels wasm has once.
    installFusedAdam(tfjs.core);
    installTrainingKernels(tfjs.core);
    this.placement = new Placement(engine, {
      move: (event) => this.records.record(event),
      placed: (buffer, device, operation) => {
        if (operation !== null) this.intent.userPlaced(buffer, device, operation, this.cellNumber);
      },
      warn: (kernelName, message) => this.warnOnce(kernelName, message),
      created: () => this.records.creationSite(),
      uploaded: (event, site) => this.records.recordAt(event, site as MoveSite),
      explicitPlacement: (buffer) => this.intent.explicit(buffer),
      inputName: (key, kernelName) => this.records.inputName(key, kernelName),
      passedArguments: () => this.records.passedArguments(),
      libraryCall: () => {
        const origin = currentOrigin();
        return origin?.by === 'library' ? origin.call : null;
      },
    }, (backend) => tfjs.core.getKernelsForBackend(backend).map((kernel) => kernel.kernelName), this.transferEngine);
    this.placement.ownsOp = () => this.stray.owns(deps.cells.check(), this.cellNumber);
    this.placement.runningCellOwns = () => {
      const owner = deps.cells.owner();
      return owner === null || owner === this.cellNumber;
    };
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
    // Not ownsOp: a dispose in an interrupted cell's `finally` (or tidy's end) must not throw.
    this.finalizer.ownsDispose = () => this.placement.runningCellOwns();
    this.backends = new ReadyBackends(registry, this.placement, this.transferEngine, this.timing);
    this.moves = new TensorMoves({
      engine, placement: this.placement, registry, backends: this.backends, transferEngine: this.transferEngine, timing: this.timing,
      cells: deps.cells, emit: deps.emit, record: (event) => this.records.record(event), retarget: (tensor) => this.finalizer.retarget(tensor),
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
    this.cellStartedAt = performance.now();
    this.records.beginCell(this.cellNumber, this.cellStartedAt, source);
    this.finalizer.beginCell();
    this.placement.takeActivity();
    this.placement.takeChanged();
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
    // Tensors made, disposed or moved from a host copy with no op or move recorded (tf.tensor,
    // tf.ones, x.dispose(), x.to('cpu') after a read) touch tensors too: the report says where they
    // live (they showed with the next cell that ran an op).
    const madeOrDisposed = this.placement.takeChanged() || this.finalizer.takeDisposedByUser();
    const { moves, folded, foldedTime } = this.records.endCell(Object.keys(activity).length > 0);
    this.finalizer.endCell();
    if (Object.keys(activity).length === 0 && moves.length === 0 && folded.length === 0 && !madeOrDisposed) {
      // No report for a cell that touched nothing: GPU work that arrived meanwhile (left running
      // by an earlier cell) shows with the next cell that reports, not nowhere.
      if (!profiled) this.timing.keep(gpuTimes);
      return null;
    }
    splitGpuWaits(moves, gpuTimes, this.cellNumber);
    await this.records.nameCollections(moves);
    const report = assembleCellReport({
      cell: this.cellNumber, startedAt: this.cellStartedAt, activity, moves, folded, foldedTime, gpuTimes, profile,
      known: this.registry.list(), liveBytes: (device) => this.placement.live[device]?.bytes ?? 0, liveBytesBefore: this.liveBefore,
      heldOnHostBytes: (device) => this.placement.live[device]?.hostBytes ?? 0,
    });
    // A software GPU is named as such by the first report that shows it used; later ones say "(software)" only.
    for (const use of usedSoftwareGpus(report)) {
      if (this.softwareTold.has(use.device)) use.softwareTold = true;
      else if (this.report !== 'off') this.softwareTold.add(use.device);
    }
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
    return this.records.transfers(scope);
  }

  /** The moves the running code's cell made so far (progress bars diff them): not other cells' leftover work's. */
  transferTotals(): ReturnType<TransferLedger['totals']> {
    return this.records.totals(this.deps.cells.owner() ?? this.cellNumber);
  }

  resetTransfers(): void {
    this.records.reset();
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
    return this.records.answerer();
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
    const readers = new Set([...(this.records.sourceOf(where.cell)?.lineText(where.line) ?? '').matchAll(/([A-Za-z_$][\w$]*)\s*\.\s*device\b/g)].map((match) => match[1]!));
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
  asCall<T>(origin: Omit<MoveOrigin, 'invocation'>, call: () => T, args?: readonly unknown[], target?: unknown): T {
    // The user's own call is located from the stack at the call (read only if it moves anything):
    // awaited later, its async stack would name the await's line instead.
    return withCall(() => (origin.by === 'user' ? this.deps.locateLater() : this.deps.locate()), origin, call, args, target);
  }

  // --- internals --------------------------------------------------------------------------

  private warnOnce(kernelName: string, message: string): void {
    // Inside a library call (fit's batches run in its promise chain) the stack has no cell frame: the call's line.
    const where = this.deps.locate() ?? currentCallSite();
    const site = where ? `cell ${where.cell}, line ${where.line}` : 'this cell';
    // Per input named: fit's x and y both go through GatherV2, and only x was told.
    const key = `${site}:${kernelName}:${message}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    process.stderr.write(`Warning (${site}): ${message}\n`);
  }
}
