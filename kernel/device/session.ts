// The device layer as the interpreter sees it (CellHooks) and as magics see it (DeviceControl).
// Nothing here loads until a cell touches tensors or names a device: a kernel that never does
// never loads tfjs.
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-info';
import type { CellReport, DeviceUse } from '../display/report/cell-report';
import type { TransferTotals } from '../display/progress';
import { renderReport } from '../display/report/render';
import type { CellHooks, CellLocation, CellWork } from '../interpreter/cell-hooks';
import type { OutputEvent } from '../interpreter/interpreter';
import type {
  DeviceControl, DeviceInfo, DeviceMemory, DevicePolicy, FoldedMoves, GarbageCollection, TransferListing, TransferRecord,
} from './device-control';
import type { BackendLike, BufferInfo, EngineLike, TensorLike } from './engine-internals';
import { moveProgress } from '../display/move-progress';
import { TransferLedger } from './ledger';
import { closeInterruptedScopes } from './interrupted-engine';
import { TensorFinalizer } from './tensor-finalizer';
import { bytesOn, type DeviceActivity, type MoveEvent, Placement } from './placement';
import { DeviceError, DeviceRegistry } from './registry';
import { createAsTensor, extendTensors, type TensorMover } from './tensor-api';
import { loadTfjs, type Tfjs } from './tfjs';
import { isWasmBackend, isWebGpuBackend } from './transfer/gpu-types';
import { releasePooledBuffers } from './transfer/gpu-allocation';
import { SMALL_MOVE_BYTES, TransferEngine } from './transfer/transfer-engine';
import { currentCallSite, withCallSite } from './call-site';
import { OpProfiler, type ProfileRow } from './profile/op-profiler';
import { gpuUse } from './timing/gpu-use';
import { nameEarlierCells } from './timing/queue-wait';
import { type CellGpuTimes, GpuTiming, type MoveTiming } from './timing/gpu-timing';

/** Declarations the checker needs once tensors are in play: `tf`, the tensor API, `asTensor`… */
export const TENSOR_DECLARATIONS = path.join(PACKAGE_ROOT, 'kernel', 'types', 'tensors.d.ts');

/** Code that may touch tensors or devices. A false positive only loads tfjs a little early. */
const USES_TENSORS = /\b(tf|asTensor|bestDevice|withDevice|device)\b|@tensorflow\//;
/** Code that may name a GPU: GPUs are looked for (~0.2 s) before it is checked. */
const NAMES_DEVICES = /\b(gpu|cuda|bestDevice|withDevice|device|auto)\b/;

export interface DeviceLayerDependencies {
  /** Where the running code is (cell and line), for the ledger and warnings. */
  locate(): CellLocation | null;
  /** Output of the running cell (the report). */
  emit(event: OutputEvent): void;
  /** Whose work is running: an interrupted cell's leftover work stops, another cell's is not counted as this one's. */
  cells: CellWork;
}

class DeviceSession implements DeviceControl, TensorMover {
  private readonly placement: Placement;
  readonly ledger = new TransferLedger();
  private readonly finalizer: TensorFinalizer;
  private readonly warned = new Set<string>();
  private currentDevice = 'cpu';
  private reportMode: 'off' | 'compact' | 'full' = 'full';
  private cellStartedAt = performance.now();
  private cellNumber = 0;
  private liveBefore = new Map<string, number>();
  private readonly reportedLost = new Set<string>();
  private readonly engine: EngineLike;
  readonly transferEngine: TransferEngine;
  /** Moves in flight per buffer: a second move of the same tensor waits for the first. */
  private readonly moving = new WeakMap<object, Promise<void>>();
  private readonly readyBackends = new Map<string, BackendLike>();
  /** Cells whose leftover work did ops or moves while this cell ran, and those moves: said apart, not counted. */
  private readonly strayCells = new Set<number>();
  private strayMoves = 0;
  /** Each started GPU's clock: when it was busy, from its own timestamps. */
  private readonly timing = new GpuTiming(() => this.cellNumber);
  private readonly profiler: OpProfiler;
  /** Buffers being read now: data() inside array() is the same read, recorded once. */
  private readonly reading = new WeakSet<object>();

  constructor(private readonly tfjs: Tfjs, readonly registry: DeviceRegistry, private readonly deps: DeviceLayerDependencies) {
    const engine = tfjs.core.engine() as unknown as EngineLike;
    this.engine = engine;
    this.transferEngine = new TransferEngine(engine);
    this.placement = new Placement(engine, {
      move: (event) => this.record(event),
      warn: (kernelName, message) => this.warnOnce(kernelName, message),
    }, (backend) => tfjs.core.getKernelsForBackend(backend).map((kernel) => kernel.kernelName), this.transferEngine);
    this.placement.ownsOp = () => this.owns(deps.cells.check());
    this.placement.install();
    this.profiler = new OpProfiler(engine, this.timing.clocks);
    // After Placement: its trackTensor accounts the bytes, this one only lists the tensor.
    this.finalizer = new TensorFinalizer(engine, {
      deviceOf: (dataId) => this.placement.deviceOfData(dataId),
      bytesOf: (dataId) => this.placement.bytesOfData(dataId),
      live: () => Object.fromEntries(Object.entries(this.placement.live).map(([device, entry]) => [device, entry.bytes])),
    });
    this.finalizer.install();
    extendTensors(tfjs.core, tfjs.layers, this);
    Object.assign(globalThis, {
      tf: tfjs.namespace,
      asTensor: createAsTensor(tfjs.core),
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

  /** %report: with it off (and no %profile) the GPU clocks stop timing, so an unreported cell pays nothing for them. */
  get report(): 'off' | 'compact' | 'full' {
    return this.reportMode;
  }

  set report(mode: 'off' | 'compact' | 'full') {
    this.reportMode = mode;
    this.updateClocks();
  }

  private updateClocks(): void {
    this.timing.setEnabled(this.reportMode !== 'off' || this.profile);
  }

  get policy(): DevicePolicy {
    return this.placement.policy;
  }

  set policy(policy: DevicePolicy) {
    this.placement.policy = policy;
  }

  // --- cell lifecycle ---------------------------------------------------------------------

  beforeRun(executionCount: number): void {
    closeInterruptedScopes(this.engine);
    this.cellNumber = executionCount;
    this.cellStartedAt = performance.now();
    this.ledger.beginCell();
    this.finalizer.beginCell();
    this.placement.takeActivity();
    this.liveBefore = new Map(Object.entries(this.placement.live).map(([device, entry]) => [device, entry.bytes]));
  }

  /** Whether work of cell `owner` (null: the kernel's own) counts as the running cell's. */
  private owns(owner: number | null): boolean {
    if (owner === null || owner === this.cellNumber) return true;
    // Detached work (cell 0) is left out of every report without a word: it was meant to outlive its cell.
    if (owner !== 0) this.strayCells.add(owner);
    return false;
  }

  /** One line about other cells' work that ran during this one, so its report is this cell's alone. */
  private strayLine(): string | null {
    const ops = Object.entries(this.placement.takeStray()).filter(([, done]) => done.ops > 0);
    const cells = [...this.strayCells].sort((a, b) => a - b);
    const moves = this.strayMoves;
    this.strayCells.clear();
    this.strayMoves = 0;
    if (cells.length === 0 || (ops.length === 0 && moves === 0)) return null;
    const did = [...ops.map(([device, done]) => `${done.ops} op${done.ops === 1 ? '' : 's'} on ${device}`), ...(moves > 0 ? [`${moves} move${moves === 1 ? '' : 's'}`] : [])];
    return `tsgpu: work still running from cell${cells.length > 1 ? 's' : ''} ${cells.join(', ')} did ${did.join(', ')} while this cell ran; `
      + 'it is not counted in this report (await it in its own cell, or detach() work meant to outlive it).\n';
  }

  async afterRun(): Promise<void> {
    const stray = this.strayLine();
    if (stray) process.stderr.write(stray);
    // A profile waits for every op's GPU time; the plain report does not wait for a busy GPU.
    const profiled = !this.profiler.empty;
    const gpuTimes = await this.timing.collect(profiled);
    for (const { intervals } of gpuTimes.values()) this.profiler.addGpuTimes(intervals);
    const profile = profiled ? this.profiler.take() : null;
    const activity = this.placement.takeActivity();
    const { moves, folded } = this.ledger.endCell(Object.keys(activity).length > 0);
    this.finalizer.endCell();
    if (Object.keys(activity).length === 0 && moves.length === 0 && folded.length === 0) return;
    nameEarlierCells(moves, gpuTimes, this.cellStartedAt, this.cellNumber);
    const report = this.cellReport(activity, moves, folded, gpuTimes, profile);
    if (this.placement.logKernels) this.printPlacement(report);
    // A profile asked for is shown even with %report off.
    if (this.report !== 'off' || profile !== null) this.deps.emit({ type: 'display_data', ...renderReport(report, this.report === 'off' ? 'compact' : this.report) });
  }

  async faults(): Promise<string | null> {
    const errors = await this.registry.takeGpuErrors();
    const lost = this.registry.list().filter((device) => device.state === 'lost').map((device) => device.name);
    const newlyLost = lost.filter((device) => !this.reportedLost.has(device));
    for (const device of newlyLost) this.reportedLost.add(device);
    if (errors.length === 0 && newlyLost.length === 0) return null;
    const parts = errors.slice(0, 3).map((error) => `${error.device} reported: ${error.message.split('\n')[0]}`);
    if (errors.length > 3) parts.push(`and ${errors.length - 3} more`);
    for (const device of newlyLost) parts.push(`${device} was lost (driver reset or device removed); its tensors are gone, other devices and variables are fine`);
    const memory = errors.some((error) => /memory/i.test(error.message));
    return `${parts.join('; ')}. This cell's GPU results may be wrong (zeros).${memory ? ' Out of GPU memory: dispose tensors you no longer need (x.dispose(), tf.tidy), or use smaller batches.' : ''} %devices shows each device's state.`;
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

  private cellReport(activity: Record<string, DeviceActivity>, moves: TransferRecord[], folded: FoldedMoves[], gpuTimes: CellGpuTimes,
    profile: ProfileRow[] | null): CellReport {
    const start = this.cellStartedAt;
    const software = new Set(this.registry.list().filter((device) => device.software).map((device) => device.name));
    const names = new Set([...this.registry.list().map((device) => device.name), ...Object.keys(activity)]);
    const devices = [...names].map((device): DeviceUse => {
      const done = activity[device];
      const spans: [number, number][] = [];
      for (let i = 0; done && i < done.spans.length; i += 2) spans.push([done.spans[i]! - start, done.spans[i + 1]! - start]);
      return {
        device,
        software: software.has(device),
        ops: done?.ops ?? 0,
        opMs: done ? Placement.opMs(done) : 0,
        spans,
        liveBytes: this.placement.live[device]?.bytes ?? 0,
        liveBytesBefore: this.liveBefore.get(device) ?? 0,
        kernels: done?.kernels ? [...done.kernels].sort((a, b) => b[1] - a[1]) : null,
        gpu: gpuUse(gpuTimes.get(device), start, this.cellNumber),
      };
    }).filter((use) => use.ops > 0 || (use.gpu !== null && use.gpu.ms > 0) || use.liveBytes > 0 || use.liveBytesBefore > 0 || moves.some((m) => m.from === use.device || m.to === use.device));
    return {
      cell: this.cellNumber,
      durationMs: performance.now() - start,
      devices,
      transfers: moves.map(({ cell: _cell, ...move }) => move),
      foldedTransfers: folded.map(({ cell: _cell, ...group }) => group),
      profile,
    };
  }

  /** %placement on: the cell's ops by device, summarised (a loop's 10 000 ops are one line). */
  private printPlacement(report: CellReport): void {
    const lines = report.devices.flatMap((use) => (use.kernels ?? []).map(([kernel, count]) => `  ${kernel}${count > 1 ? ` ×${count}` : ''} on ${use.device}`));
    if (lines.length > 0) process.stdout.write(`placement (cell ${report.cell}):\n${lines.join('\n')}\n`);
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

  /** Initialises a device's backend and learns its limits. */
  private async backendOf(device: string): Promise<BackendLike> {
    // Ready backends answer at once: a 4-byte move must not pay for the registry's awaits.
    const ready = this.readyBackends.get(device);
    if (ready && !this.registry.isLost(device)) return ready;
    const backend = await this.registry.backend(device);
    if (isWebGpuBackend(backend)) {
      const limit = this.registry.bindingLimit(device);
      if (limit !== null) this.placement.bindingLimits.set(device, limit);
      this.transferEngine.attach(backend, { device, liveBytes: () => this.placement.live[device]?.bytes ?? 0 });
      await this.timing.attach(device, backend);
    }
    this.readyBackends.set(device, backend);
    return backend;
  }

  async setCurrent(name: string): Promise<string> {
    const device = await this.resolve(name);
    await this.backendOf(device);
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
    const awaiting = new Map(this.finalizer.awaiting().map((entry) => [entry.device, entry]));
    return this.registry.list().map(({ name }) => ({
      device: name,
      liveBytes: this.placement.live[name]?.bytes ?? 0,
      tensors: this.placement.live[name]?.buffers ?? 0,
      pooledBytes: this.registry.pooledBytes(name),
      stagingBytes: this.stagingBytes(name),
      awaitingGcBytes: awaiting.get(name)?.bytes ?? 0,
      gcPressureBytes: this.finalizer.pressureOf(name),
    }));
  }

  async collectGarbage(): Promise<GarbageCollection> {
    const collection = await this.finalizer.collectNow();
    // Pooled buffers go back to the devices once their queued work is done (as PyTorch's empty_cache).
    await this.registry.synchronize();
    const released: Record<string, number> = {};
    for (const [device, backend] of this.readyBackends) {
      const bytes = isWebGpuBackend(backend) ? releasePooledBuffers(backend) : 0;
      if (bytes > 0) released[device] = bytes;
    }
    const variables = Object.values((this.engine.state as unknown as { registeredVariables: Record<string, TensorLike> }).registeredVariables)
      .filter((variable) => !variable.isDisposed);
    return { ...collection, released, variables: { count: variables.length, bytes: variables.reduce((sum, variable) => sum + this.placement.bytesOfData(variable.dataId), 0) } };
  }

  async setGcPressure(name: string, bytes: number): Promise<string> {
    const device = await this.resolve(name);
    this.finalizer.setPressure(device, bytes);
    return device;
  }

  /** Host↔GPU staging buffers a GPU holds now (null for the host, or a GPU not started). */
  private stagingBytes(device: string): number | null {
    const backend = this.engine.registry[this.registry.backendName(device)];
    return backend && isWebGpuBackend(backend) ? this.transferEngine.stagingBytes(backend) : null;
  }

  transfers(scope: 'last' | 'all'): TransferListing {
    if (scope === 'all') return this.ledger.all();
    const { moves, folded } = this.ledger.lastCell();
    return { moves, folded, foldedCount: folded.reduce((sum, group) => sum + group.count, 0) };
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

  async move(tensor: TensorLike, device: string, operation: string): Promise<void> {
    // An interrupted cell's leftover work neither starts a move nor goes on after one.
    this.deps.cells.check();
    // One move per buffer at a time: `await Promise.all([x.cpu(), x.cpu()])` moves it once.
    const key = tensor.dataId as object;
    const previous = this.moving.get(key);
    const moving = previous ? previous.catch(() => undefined).then(() => this.moveNow(tensor, device, operation)) : this.moveNow(tensor, device, operation);
    this.moving.set(key, moving);
    try {
      await moving;
    } finally {
      if (this.moving.get(key) === moving) this.moving.delete(key);
    }
    this.deps.cells.check();
  }

  private async moveNow(tensor: TensorLike, device: string, operation: string): Promise<void> {
    const from = this.placement.deviceOfTensor(tensor);
    if (from === null) throw new Error(`${operation}(): the tensor was disposed`);
    if (from === device) return;
    const backend = await this.backendOf(device);
    const info = this.engine.state.tensorInfo.get(tensor.dataId);
    if (!info) throw new Error(`${operation}(): the tensor was disposed`);
    const toGpu = device.startsWith('gpu:');
    const fromGpu = from.startsWith('gpu:');
    if (info.dtype === 'string' && toGpu) {
      throw new DeviceError(`${operation}(): a string tensor stays on the host: GPUs hold numbers (float32, int32, bool). Encode the strings as numbers first (a vocabulary index, say).`);
    }
    if (info.dtype === 'complex64') {
      throw new DeviceError(`${operation}(): tfjs cannot move a complex64 tensor between devices (it keeps it as two float32 parts). `
        + `Move the parts and rebuild it there: tf.complex(await tf.real(x).to('${device}'), await tf.imag(x).to('${device}')).`);
    }
    if (toGpu && !fromGpu && isWebGpuBackend(backend) && this.transferEngine.handles(info)) {
      await this.timedMove(info, from, device, device, operation, (progress) => this.transferEngine.upload(tensor.dataId, backend, progress));
      return;
    }
    const source = this.engine.registry[this.registry.backendName(from)];
    if (fromGpu && !toGpu && isWasmBackend(backend) && source && isWebGpuBackend(source) && this.transferEngine.readsFromGpu(tensor.dataId)) {
      await this.timedMove(info, from, device, from, operation, (progress) => this.transferEngine.download(tensor.dataId, backend, progress));
      return;
    }
    let extra: MoveTiming = { waitMs: 0, copyMs: 0, waits: [] };
    if (fromGpu && !this.hasHostCopy(tensor)) {
      // WebGPU reads back asynchronously; tfjs's own move would need a synchronous read.
      const timing = await this.waitThenCopy(from, () => this.engine.read(tensor.dataId));
      extra = timing.timing;
    }
    this.placement.explicitly(operation, () => this.engine.moveData(backend, tensor.dataId), extra);
  }

  /** A GPU move's wait for queued work and its copy, timed apart. */
  private waitThenCopy<T>(gpuName: string, copy: () => Promise<T>): Promise<{ value: T; timing: MoveTiming }> {
    const gpu = this.engine.registry[this.registry.backendName(gpuName)];
    const webGpu = gpu && isWebGpuBackend(gpu) ? gpu : null;
    return this.timing.waitThenCopy(gpuName, webGpu, copy);
  }

  /** A move the transfer engine makes: its wait and copy timed apart, a bar shown while it runs past a second, recorded once. */
  private async timedMove(info: BufferInfo, from: string, to: string, gpuName: string, operation: string,
    run: (progress: (done: number, total: number) => void) => Promise<void>): Promise<void> {
    const bar = moveProgress(this.deps.emit, `${from} → ${to}`);
    let timing: MoveTiming;
    if (gpuName === to && bytesOn(info, to) <= SMALL_MOVE_BYTES) {
      // A small upload is one queue.writeBuffer, which takes the bytes at once and needs no wait:
      // waiting for queued GPU work first, only to time it, made a per-sample upload loop wait on
      // every step. Its ms is the write; the GPU applies it in queue order.
      const started = performance.now();
      await run(() => undefined);
      timing = { waitMs: 0, copyMs: performance.now() - started, waits: [] };
    } else {
      ({ timing } = await this.waitThenCopy(gpuName, () => run((done, total) => bar.update(done, total))));
    }
    bar.finish();
    this.placement.explicitly(operation, () => this.placement.recordMove(info, from, to, timing));
  }

  async read<T>(tensor: TensorLike, operation: string, read: () => Promise<T>): Promise<T> {
    this.deps.cells.check();
    const from = this.placement.deviceOfTensor(tensor);
    const key = tensor.dataId as object;
    // array() reads through data(): the inner read is the same move.
    if (from === null || !from.startsWith('gpu:') || this.hasHostCopy(tensor) || this.reading.has(key)) return read();
    const info = this.engine.state.tensorInfo.get(tensor.dataId);
    this.reading.add(key);
    try {
      const { value, timing } = await this.waitThenCopy(from, read);
      this.record({
        direction: 'D2H', from, to: 'cpu', bytes: info ? bytesOn(info, from) : this.tfjsBytes(tensor), ...timing, operation, explicit: true,
        scalar: tensor.rank === 0,
      });
      // Interrupted while the GPU was read: the values are not handed to the rest of the cell's work.
      this.deps.cells.check();
      return value;
    } finally {
      this.reading.delete(key);
    }
  }

  started(operation: string): (error?: unknown) => void {
    return this.deps.cells.started(operation);
  }

  onInterrupt(stop: () => void): () => void {
    return this.deps.cells.onInterrupt(stop);
  }

  // --- internals --------------------------------------------------------------------------

  runOn<T>(device: string, run: () => T): T {
    return this.placement.runOn(this.registry.backendName(device), run);
  }

  hasHostValues(tensor: TensorLike): boolean {
    const device = this.placement.deviceOfTensor(tensor);
    return device !== null && (!device.startsWith('gpu:') || this.hasHostCopy(tensor));
  }

  private hasHostCopy(tensor: TensorLike): boolean {
    const info = this.engine.state.tensorInfo.get(tensor.dataId);
    return info?.backend.tensorMap?.get(tensor.dataId)?.values != null;
  }

  private tfjsBytes(tensor: TensorLike): number {
    return this.engine.state.tensorInfo.get(tensor.dataId)?.bytes ?? 0;
  }

  private record(event: MoveEvent): void {
    if (!this.owns(this.deps.cells.owner())) {
      this.strayMoves++;
      return;
    }
    // tfjs-layers reads back in .then() callbacks, which lose the cell's frame: the library call's site is carried.
    const where = this.deps.locate() ?? currentCallSite();
    const ms = event.waitMs + event.copyMs;
    this.ledger.add({
      direction: event.direction, from: event.from, to: event.to, bytes: event.bytes, ms, waitMs: event.waitMs, copyMs: event.copyMs, waits: event.waits,
      cause: event.explicit ? 'explicit' : 'implicit', operation: event.operation,
      cell: where?.cell ?? this.cellNumber, line: where?.line ?? null, at: performance.now() - ms - this.cellStartedAt, scalar: event.scalar,
    });
  }

  /** The notebook line a library call (model.fit…) came from, for the moves it makes later. */
  callSite<T>(call: () => T): T {
    return withCallSite(this.deps.locate(), call);
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

/** The lazily loaded device layer: CellHooks for the interpreter, DeviceControl for magics. */
export class DeviceLayer implements CellHooks {
  private session: DeviceSession | null = null;
  private loading: Promise<DeviceSession> | null = null;
  /** The running cell, for a session that loads in the middle of it. */
  private cell = 0;

  constructor(private readonly deps: DeviceLayerDependencies) {}

  control(): Promise<DeviceControl> {
    return this.load();
  }

  async prepare(code: string): Promise<string[]> {
    if (!this.session && !USES_TENSORS.test(code)) return [];
    const session = await this.load();
    if (NAMES_DEVICES.test(code)) await session.registry.discover();
    return [TENSOR_DECLARATIONS];
  }

  beforeRun(executionCount: number): void {
    this.cell = executionCount;
    this.session?.beforeRun(executionCount);
  }

  async afterRun(): Promise<void> {
    await this.session?.afterRun();
  }

  synchronize(): Promise<void> {
    return this.session?.synchronize() ?? Promise.resolve();
  }

  async faults(): Promise<string | null> {
    return this.session?.faults() ?? null;
  }

  transferTotals(): TransferTotals {
    return this.session?.ledger.totals() ?? { count: 0, bytes: 0, ms: 0 };
  }

  private load(): Promise<DeviceSession> {
    this.loading ??= DeviceSession.load(this.deps).then((session) => {
      this.session = session;
      session.beforeRun(this.cell);
      return session;
    });
    return this.loading;
  }
}
