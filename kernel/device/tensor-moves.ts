// Explicit moves and readbacks (x.to(), x.cpu(), x.data(), model.to()): which path each takes
// (the transfer engine's staged copies, or tfjs's own moveData), its wait and copy timed apart,
// and each recorded once.
import type { CellWork } from '../interpreter/cell-hooks';
import type { MoveLeg, MoveWait } from './device-control';
import type { OutputEvent } from '../interpreter/interpreter';
import { moveProgress } from '../display/move-progress';
import { type BackendLike, type BufferInfo, complexParts, type DataId, type EngineLike, type TensorLike } from './engine-internals';
import { bytesOn, type MoveEvent, type Placement } from './placement';
import type { ReadyBackends } from './ready-backends';
import { DeviceError, type DeviceRegistry } from './registry';
import type { GpuTiming, MoveSetUp, MoveTiming } from './timing/gpu-timing';
import { lessKernelWork, noteKernelWork } from './timing/kernel-work';
import { type MoveCall, waitsFromCall } from './timing/move-call';
import { GpuToGpuLegFailed, GpuToGpuStopped, moveBetweenGpus } from './transfer/gpu-to-gpu';
import { isWasmBackend, isWebGpuBackend, type WebGpuBackend } from './transfer/gpu-types';
import { heldInHostArray, MoveAborted, MoveInterrupted, SMALL_MOVE_BYTES, type TransferEngine } from './transfer/transfer-engine';

export interface TensorMovesParts {
  engine: EngineLike;
  placement: Placement;
  registry: DeviceRegistry;
  backends: ReadyBackends;
  transferEngine: TransferEngine;
  timing: GpuTiming;
  cells: CellWork;
  /** Where a long move's progress bar goes. */
  emit(event: OutputEvent): void;
  /** A readback to record in the ledger (moves record themselves through Placement). */
  record(event: MoveEvent): void;
  /** The tensor was given data of its own (unshare): what frees it once unreachable must free that. */
  retarget(tensor: TensorLike): void;
}

/** A backend's count of the tensors that hold a buffer (tfjs's wasm and webgpu backends both keep one). */
interface CountingBackend {
  refCount?(dataId: DataId): number;
}

export class TensorMoves {
  /** Moves in flight per buffer: a second move of the same tensor waits for the first. */
  private readonly moving = new WeakMap<object, Promise<void>>();
  /** Each tensor's latest move: a move of it waits for the one before. */
  private readonly queued = new WeakMap<TensorLike, Promise<void>>();
  /** Buffers being read now: data() inside array() is the same read, recorded once. */
  private readonly reading = new WeakSet<object>();
  /** Moves between GPUs told to stop by an interrupt: each stops at its next chunk boundary. */
  private readonly stopping = new Set<Promise<unknown>>();

  constructor(private readonly parts: TensorMovesParts) {}

  /** `call`: the user's call, timed from when it was made (else the move is timed from here). */
  async move(tensor: TensorLike, device: string, operation: string, call?: MoveCall): Promise<void> {
    // Without a call (model.to's later variables), the move is timed from here.
    const calledAt = call?.calledAt ?? performance.now();
    call?.resumed();
    // An interrupted cell's leftover work neither starts a move nor goes on after one.
    this.parts.cells.check();
    // Moves of one tensor run one after another, its unshare included: `p = x.cpu(); y = x.clone();
    // x.cpu()` gave x a buffer of its own while the first move was on its way, and both moves then
    // moved it (two downloads, one leaked). The second now waits, and finds x where the first left it.
    const ahead = this.queued.get(tensor);
    const checking = ahead === undefined ? this.unshare(tensor, device) : null;
    // The usual case goes straight on: each promise hop more on a move's way back is paid 200 times
    // over by the last answer of a Promise.all of 200 moves.
    const mine = ahead === undefined && checking === null ? this.keyedMove(tensor, device, operation, call, calledAt)
      : this.moveInTurn(tensor, device, operation, call, calledAt, ahead, checking);
    this.queued.set(tensor, mine);
    try {
      await mine;
    } finally {
      call?.finish();
      if (this.queued.get(tensor) === mine) this.queued.delete(tensor);
    }
    this.parts.cells.check();
  }

  /** The move once the tensor's move before it (`ahead`) is done, or its unshare confirmed (`checking`). */
  private async moveInTurn(tensor: TensorLike, device: string, operation: string, call: MoveCall | undefined, calledAt: number,
    ahead: Promise<void> | undefined, checking: Promise<void> | null): Promise<void> {
    let timedFrom = calledAt;
    let timedCall = call;
    if (ahead !== undefined) {
      // Behind another move, the time since the call was that move's, not this one's wait.
      call?.finish();
      timedCall = undefined;
      await ahead.catch(() => undefined);
      timedFrom = performance.now();
      checking = this.unshare(tensor, device);
    }
    if (checking !== null) {
      timedCall?.paused();
      await checking;
      timedCall?.resumed();
    }
    await this.keyedMove(tensor, device, operation, timedCall, timedFrom);
  }

  /**
   * One move per buffer at a time (tensors sharing one where none was unshared: the same tensor
   * twice, a string tensor): `await Promise.all([x.cpu(), x.cpu()])` moves it once.
   */
  private keyedMove(tensor: TensorLike, device: string, operation: string, call: MoveCall | undefined, calledAt: number): Promise<void> {
    const key = tensor.dataId as object;
    const previous = this.moving.get(key);
    if (previous) call?.finish();
    const moving = previous ? previous.catch(() => undefined).then(() => this.moveNow(tensor, device, operation, undefined, performance.now()))
      : this.moveNow(tensor, device, operation, call, calledAt);
    this.moving.set(key, moving);
    const done = (): void => {
      if (this.moving.get(key) === moving) this.moving.delete(key);
    };
    moving.then(done, done);
    return moving;
  }

  /**
   * A tensor that shares its buffer with others moves alone, as a PyTorch tensor does: tfjs's clone(),
   * reshape() and a variable made from a tensor hold the same buffer, and moving the buffer moved them
   * all (`w.clone().to('cpu')` of a model's weights put the model on the host). Before such a move
   * the tensor takes an exact copy of its own on its device, and the others keep the buffer. Only
   * where the move will go somewhere. On a GPU the copy's buffer is one Dawn must confirm it made
   * (out of memory, the copy would be no copy): the promise settles once it has, and null is
   * returned where nothing is to wait for.
   */
  private unshare(tensor: TensorLike, device: string): Promise<void> | null {
    const { engine, placement } = this.parts;
    const info = engine.state.tensorInfo.get(tensor.dataId);
    if (info === undefined || ((info.backend as CountingBackend).refCount?.(tensor.dataId) ?? 1) <= 1) return null;
    const from = placement.deviceOfTensor(tensor);
    if (from === null || from === device || info.dtype === 'string' || info.dtype === 'complex64') return null;
    const gpu = isWebGpuBackend(info.backend) ? info.backend : null;
    gpu?.device.pushErrorScope('out-of-memory');
    gpu?.device.pushErrorScope('validation');
    let made: TensorLike | Error;
    try {
      made = this.copyOnItsDevice(tensor, info.backend);
    } catch (error) {
      made = error as Error;
    }
    // Popped at once, whatever happened: a scope left pushed across an await would catch other work's errors.
    const pops = gpu === null ? null : [gpu.device.popErrorScope(), gpu.device.popErrorScope()];
    if (made instanceof Error) {
      if (pops !== null) void Promise.all(pops).catch(() => undefined);
      throw made;
    }
    const copy = made;
    const copiedFrom = tensor.dataId;
    const take = (): void => {
      // A variable assigned while Dawn confirmed the copy holds other data now, the copy's values no longer its own.
      if (tensor.dataId !== copiedFrom) {
        copy.dispose();
        return;
      }
      // The tensor takes the copy's buffer; the copy takes the shared one and gives its reference back.
      const shared = tensor.dataId;
      (tensor as { dataId: DataId }).dataId = copy.dataId;
      (copy as { dataId: DataId }).dataId = shared;
      copy.dispose();
      this.parts.retarget(tensor);
    };
    if (pops === null) {
      take();
      return null;
    }
    return Promise.all(pops).then(([validation, outOfMemory]) => {
      const error = outOfMemory ?? validation;
      if (error === null) return take();
      copy.dispose();
      throw new DeviceError(`${from} could not give this tensor a buffer of its own (${(error.message.split('\n')[0] ?? '').trim()}): it shares its buffer `
        + 'with other tensors (a clone, a reshape(), a variable made from it), and moves alone only with a copy of its own. It stays where it was, unchanged. '
        + 'Free GPU tensors you no longer need (x.dispose(), or drop them and run %gc) and move it again.');
    });
  }

  /**
   * A new tensor with its own buffer holding `tensor`'s values, bit for bit, on its device: on a GPU
   * a buffer copy on its queue (tfjs's ops are no copy: a Tile of int32 went through float32 and
   * gave 2147483520 for 2147483647), else a copy of the values.
   */
  private copyOnItsDevice(tensor: TensorLike, backend: BackendLike): TensorLike {
    const engine = this.parts.engine as EngineLike & { makeTensor(values: unknown, shape: number[], dtype: string, backend: BackendLike): TensorLike };
    if (isWebGpuBackend(backend)) {
      const data = backend.tensorMap.get(tensor.dataId);
      if (data?.resource !== undefined && data.resource !== null) {
        const copy = backend.createTensorFromGPUData({ buffer: data.resource, zeroCopy: false }, tensor.shape, tensor.dtype);
        // The values a read kept on the host go with it: its move to the host then crosses no byte, as the original's would not.
        const kept = backend.tensorMap.get(copy.dataId);
        if (kept !== undefined && data.values !== null && data.values !== undefined) kept.values = (data.values as { slice(): unknown }).slice();
        return copy;
      }
    }
    // Values on the host (the wasm backend's, or a GPU's held in a host array until first used).
    const values = backend.readSync(tensor.dataId) as { slice(): unknown };
    return engine.makeTensor(values.slice(), tensor.shape, tensor.dtype, backend);
  }

  /** `calledAt`: when the move's time starts (its call, or where it got its turn behind another move of the tensor). */
  private async moveNow(tensor: TensorLike, device: string, operation: string, call: MoveCall | undefined, calledAt: number): Promise<void> {
    const { engine, placement, registry, transferEngine } = this.parts;
    const from = placement.deviceOfTensor(tensor);
    if (from === null) throw new Error(`${operation}(): the tensor was disposed`);
    if (from === device) {
      if (device.startsWith('gpu:')) await this.uploadHeldValues(tensor, device, operation, call, calledAt);
      return;
    }
    // A first move sets its GPU up first: timed with the move, as its wait.
    // The host's backend is there from the start: only a GPU is set up on the way.
    const firstUse = device.startsWith('gpu:') && !this.parts.backends.isReady(device);
    const ready = this.parts.backends.of(device);
    // Up to here the set-up ran on the thread; after, the thread may be the cell's.
    const yieldedAt = performance.now();
    call?.paused();
    const backend = await ready;
    call?.resumed();
    const setUp = (): MoveSetUp => ({ calledAt, yieldedAt, firstUse, held: call?.finish() ?? [] });
    const info = engine.state.tensorInfo.get(tensor.dataId);
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
    if (toGpu && !fromGpu && isWebGpuBackend(backend) && transferEngine.handles(info)) {
      await this.timedMove(info, from, device, device, operation, (progress, signal) => transferEngine.upload(tensor.dataId, backend, progress, signal), setUp);
      return;
    }
    const source = engine.registry[registry.backendName(from)];
    if (fromGpu && !toGpu && isWasmBackend(backend) && source && isWebGpuBackend(source) && transferEngine.readsFromGpu(tensor.dataId)) {
      await this.timedMove(info, from, device, from, operation, (progress, signal) => transferEngine.download(tensor.dataId, backend, progress, signal), setUp);
      return;
    }
    if (toGpu && fromGpu && isWebGpuBackend(backend) && transferEngine.handles(info)) {
      await this.betweenGpus(tensor, info, from, device, backend, operation, setUp());
      return;
    }
    let extra: MoveTiming = { waitMs: 0, copyMs: 0, waits: [] };
    if (fromGpu && !this.hasHostCopy(tensor)) {
      // WebGPU reads back asynchronously; tfjs's own move would need a synchronous read.
      const timing = await this.waitThenCopy(from, () => engine.read(tensor.dataId));
      extra = timing.timing;
    }
    placement.explicitly(operation, () => engine.moveData(backend, tensor.dataId), extra);
  }

  /**
   * x.to('gpu:0') of a tensor made on gpu:0 from host values (tf.tensor, randomNormal under
   * %device gpu:0), which tfjs keeps in a host array until an op first uses it and then uploads
   * inside that op, untimed: the user asked for it on the GPU, so it goes now, timed as their move.
   */
  private async uploadHeldValues(tensor: TensorLike, device: string, operation: string, call: MoveCall | undefined, calledAt: number): Promise<void> {
    const { engine, placement, transferEngine } = this.parts;
    const info = engine.state.tensorInfo.get(tensor.dataId);
    const gpu = this.webGpuOf(device);
    if (info === undefined || gpu === null || info.backend !== gpu || !heldInHostArray(gpu, tensor.dataId) || !transferEngine.handles(info)) return;
    const setUp = (): MoveSetUp => ({ calledAt, yieldedAt: performance.now(), firstUse: false, held: call?.finish() ?? [] });
    try {
      await this.timedMove(info, 'cpu', device, device, operation, (progress, signal) => transferEngine.upload(tensor.dataId, gpu, progress, signal), setUp,
        () => placement.uploadedInPlace(info, tensor.dataId, device, operation));
    } catch (error) {
      // An op of the cell's used it meanwhile and tfjs uploaded it there (recorded as that op's
      // upload at first use): it is in a GPU buffer either way.
      if (error instanceof MoveInterrupted && !(error instanceof MoveAborted) && !heldInHostArray(gpu, tensor.dataId)) return;
      throw error;
    }
  }

  /**
   * A read of GPU values: its copy queued behind the GPU's work at once, the two timed apart. A
   * read that must first set up a staging buffer waits, then copies, so that the set-up shows as
   * a wait of its own rather than hidden behind the GPU's work.
   */
  private waitAlongsideCopy<T>(gpuName: string, copy: () => Promise<T>): Promise<{ value: T; timing: MoveTiming }> {
    const webGpu = this.webGpuOf(gpuName);
    if (webGpu === null || !this.parts.transferEngine.readbackReady(webGpu)) return this.parts.timing.waitThenCopy(gpuName, webGpu, copy);
    return this.parts.timing.waitAlongsideCopy(gpuName, webGpu, copy);
  }

  /** A GPU move's wait for queued work and its copy, timed apart. */
  private waitThenCopy<T>(gpuName: string, copy: () => Promise<T>): Promise<{ value: T; timing: MoveTiming }> {
    return this.parts.timing.waitThenCopy(gpuName, this.webGpuOf(gpuName), copy);
  }

  /** The WebGPU backend behind a device name, or null (a device whose backend is not WebGPU). */
  private webGpuOf(gpuName: string): WebGpuBackend | null {
    const gpu = this.parts.engine.registry[this.parts.registry.backendName(gpuName)];
    return gpu && isWebGpuBackend(gpu) ? gpu : null;
  }

  /**
   * A move the transfer engine makes: its wait and copy timed apart, a bar shown while it runs past
   * a second, recorded once. An interrupt stops it at its next chunk boundary, the tensor whole
   * where it was (it went on after its cell ended and landed in a later one, as "work still
   * running from cell 3"); the whole chunks that crossed are recorded, apart from the tensor.
   */
  private async timedMove(info: BufferInfo, from: string, to: string, gpuName: string, operation: string,
    run: (progress: (done: number, total: number) => void, signal?: AbortSignal) => Promise<void>, setUp?: () => MoveSetUp,
    uploadedInPlace?: () => void): Promise<void> {
    const bar = moveProgress(this.parts.emit, `${from} → ${to}`);
    // Taken as the copy is about to start: it ends the watch of the cell's code since the call.
    const fromCall = setUp?.();
    let timing: MoveTiming & { calledAt?: number };
    /** Where this move's last step (up to its record) began, for other moves' waits (noteKernelWork). */
    let stepFrom: number | null = null;
    if (gpuName === to && bytesOn(info, to) <= SMALL_MOVE_BYTES) {
      // A small upload is one queue.writeBuffer, which takes the bytes at once and needs no wait:
      // waiting for queued GPU work first, only to time it, made a per-sample upload loop wait on
      // every step. Its ms is the write; the GPU applies it in queue order. The write is done
      // before run() returns: the await after it has nothing to wait for, and the time the cell's
      // code held it there (like the time since the call) is host busy; other moves' steps that
      // ran there (a Promise.all of uploads) are the kernel's work, and so is this move's own.
      const steppedAt = performance.now();
      const before = fromCall === undefined ? null : waitsFromCall(gpuName, fromCall.calledAt, fromCall.firstUse, fromCall.held);
      const started = performance.now();
      const written = run(() => undefined);
      const copied = performance.now();
      noteKernelWork(steppedAt, copied);
      await written;
      const resumed = performance.now();
      const held = waitsFromCall(gpuName, copied, false, fromCall === undefined ? 'all' : lessKernelWork({ start: copied, end: resumed }));
      // Held after the write: in a Promise.all of 200 uploads every write comes first and every
      // record last, and copies drawn just before their records overlapped into 1.6 ms of copying
      // where they took 44 ms one after another.
      const waits = [...before?.waits ?? [], ...(held?.waits ?? []).map((wait): MoveWait => ({ ...wait, afterCopy: true }))];
      timing = { waitMs: (before?.ms ?? 0) + (held?.ms ?? 0), copyMs: copied - started, waits, copyEnd: copied, copyOnThread: true };
      stepFrom = resumed;
    } else {
      const stop = new AbortController();
      let crossed = 0;
      const moving = this.parts.timing.waitThenCopy(gpuName, this.webGpuOf(gpuName), async () => {
        try {
          await run((done, total) => {
            crossed = done;
            bar.update(done, total);
          }, stop.signal);
          return true;
        } catch (error) {
          if (error instanceof MoveAborted) return false;
          throw error;
        }
      }, fromCall);
      const cancel = this.stopOnInterrupt(stop, moving);
      let whole: boolean;
      try {
        ({ value: whole, timing } = await moving);
      } finally {
        cancel();
      }
      if (!whole) {
        // Stopped before its first chunk too (while its new buffer was cleared): no byte crossed,
        // but the time it took was the cell's all the same, and it showed nowhere.
        this.recordExplicit(info, from, to, crossed, timing, operation);
        this.parts.cells.check();
        return;
      }
    }
    bar.finish();
    // Whole: timed from the user's call to its record (withKernelWork).
    if (fromCall !== undefined) timing = { ...timing, calledAt: fromCall.calledAt };
    if (uploadedInPlace === undefined) this.parts.placement.explicitly(operation, () => this.parts.placement.recordMove(info, from, to, timing));
    else {
      // The buffer stayed on its GPU: only its bytes' place changed, from host array to GPU buffer.
      uploadedInPlace();
      this.recordExplicit(info, from, to, bytesOn(info, to), timing, operation);
    }
    if (stepFrom !== null) noteKernelWork(stepFrom, performance.now());
  }

  /** The user's move recorded as bytes that crossed, the tensor's live bytes left as they are (a move stopped part-way, an upload in place). */
  private recordExplicit(info: BufferInfo, from: string, to: string, bytes: number, timing: MoveTiming, operation: string): void {
    this.parts.record({ direction: to.startsWith('gpu:') ? 'H2D' : 'D2H', from, to, bytes, ...timing, operation, explicit: true, scalar: info.shape.length === 0 });
  }

  /**
   * An interrupt of the running cell aborts `move` (at its next chunk boundary), and the cell's end
   * waits for it to stop (see stopped()). Returns what undoes this once the move is over.
   */
  private stopOnInterrupt(stop: AbortController, move: Promise<unknown>): () => void {
    return this.parts.cells.onInterrupt(() => {
      stop.abort();
      this.stopping.add(move);
      const forget = (): void => void this.stopping.delete(move);
      move.then(forget, forget);
    });
  }

  /**
   * Resolves once the moves an interrupt stopped have stopped (each within one chunk), so that
   * what they carried is recorded in the interrupted cell's report and the tensor is in its final
   * place before the next cell runs.
   */
  async stopped(): Promise<void> {
    await Promise.all([...this.stopping].map((move) => move.catch(() => undefined)));
  }

  /** GPU → GPU through the host, both legs chunked; recorded once with its legs (or as the one leg made, if the second fails). */
  private async betweenGpus(tensor: TensorLike, info: BufferInfo, from: string, to: string, target: WebGpuBackend, operation: string,
    setUp: MoveSetUp): Promise<void> {
    const { engine, placement, transferEngine } = this.parts;
    // A target GPU not used before was set up since the call: the first leg's wait, as an upload's
    // first use is (a first move to gpu:1 showed 52 ms where the cell's own clock gave 98).
    // Its record names no kernel work (withKernelWork), so the time from the call stays host busy, as it was.
    const before = waitsFromCall(to, setUp.calledAt, setUp.firstUse, setUp.firstUse ? setUp.held : 'all');
    const host = await this.parts.backends.of('cpu');
    if (!isWasmBackend(host)) throw new Error('the host backend (wasm) is not ready');
    const bar = moveProgress(this.parts.emit, `${from} → ${to}`);
    const record = (legs: MoveLeg[], direction: 'D2D' | 'D2H', end: string): void => {
      const [first, ...rest] = legs;
      const timed = before === null || first === undefined ? legs
        : [{ ...first, waitMs: first.waitMs + before.ms, waits: [...before.waits, ...first.waits] }, ...rest];
      this.parts.record({
        direction, from, to: end, bytes: bytesOn(info, end === 'cpu' ? from : end),
        waitMs: timed.reduce((sum, leg) => sum + leg.waitMs, 0), copyMs: timed.reduce((sum, leg) => sum + leg.copyMs, 0),
        waits: timed.flatMap((leg) => leg.waits), operation, explicit: true, scalar: tensor.rank === 0, buffer: info, ...(direction === 'D2D' ? { legs: timed } : {}),
      });
    };
    // An interrupt stops the move at its next chunk boundary (the cell's report waits for that):
    // it must not go on after the cell ended and land, unrecorded, while a later cell runs.
    const stop = new AbortController();
    const move = moveBetweenGpus({
      engine, transferEngine, bytesOn, moved: (moving, a, b) => placement.moved(moving, a, b, operation),
      waitThenCopy: async (gpu, copy) => (await this.waitThenCopy(gpu, copy)).timing,
    }, tensor.dataId, from, to, host, target, (done, total) => bar.update(done, total), stop.signal);
    const cancel = this.stopOnInterrupt(stop, move);
    try {
      record(await move, 'D2D', to);
      bar.finish();
    } catch (error) {
      // The first leg crossed and was counted in live memory: the ledger has it too.
      if (error instanceof GpuToGpuLegFailed && error.firstLeg.bytes > 0) record([error.firstLeg], 'D2H', 'cpu');
      if (error instanceof GpuToGpuStopped) {
        this.recordStopped(error, info, tensor, operation);
        this.parts.cells.check();
      }
      throw error;
    } finally {
      cancel();
    }
  }

  /**
   * What a stopped move carried, leg by leg, as the ledger's own moves: a finished first leg moved
   * the tensor to the host (a D2H); a partial leg carried bytes that were then let go, the tensor
   * staying where it was (no buffer changed device).
   */
  private recordStopped(stopped: GpuToGpuStopped, info: BufferInfo, tensor: TensorLike, operation: string): void {
    for (const leg of stopped.crossed) {
      const whole = leg.to === 'cpu' && stopped.at === 'cpu';
      this.parts.record({
        direction: leg.to === 'cpu' ? 'D2H' : 'H2D', from: leg.from, to: leg.to, bytes: leg.bytes, waitMs: leg.waitMs, copyMs: leg.copyMs,
        waits: leg.waits, operation, explicit: true, scalar: tensor.rank === 0, ...(whole ? { buffer: info } : {}),
      });
    }
  }

  /** `calledAt`: when the user's call (x.data()) entered the kernel; the read is timed from there to its record. */
  async read<T>(tensor: TensorLike, operation: string, read: () => Promise<T>, calledAt?: number): Promise<T> {
    this.parts.cells.check();
    const from = this.parts.placement.deviceOfTensor(tensor);
    const key = tensor.dataId as object;
    // array() reads through data(): the inner read is the same move.
    if (from === null || !from.startsWith('gpu:') || this.hasHostCopy(tensor) || this.reading.has(key)) return read();
    const info = this.parts.engine.state.tensorInfo.get(tensor.dataId);
    this.reading.add(key);
    // Counted before the read, which leaves host copies of what it brought.
    const bytes = info ? this.readBytes(info, from, tensor.dataId) : this.tfjsBytes(tensor);
    try {
      const { value, timing } = await this.waitAlongsideCopy(from, read);
      this.parts.record({
        direction: 'D2H', from, to: 'cpu', bytes, ...timing, operation, explicit: true,
        scalar: tensor.rank === 0, ...(calledAt === undefined ? {} : { calledAt }),
      });
      // Interrupted while the GPU was read: the values are not handed to the rest of the cell's work.
      this.parts.cells.check();
      return value;
    } finally {
      this.reading.delete(key);
    }
  }

  /** Whether a move to `device` has nothing to do (see uploadHeldValues for a GPU's host array). */
  settledOn(tensor: TensorLike, device: string): boolean {
    if (this.parts.placement.deviceOfTensor(tensor) !== device) return false;
    const gpu = device.startsWith('gpu:') ? this.webGpuOf(device) : null;
    return gpu === null || !heldInHostArray(gpu, tensor.dataId);
  }

  hasHostValues(tensor: TensorLike): boolean {
    const device = this.parts.placement.deviceOfTensor(tensor);
    return device !== null && (!device.startsWith('gpu:') || this.hasHostCopy(tensor));
  }

  private hasHostCopy(tensor: TensorLike): boolean {
    const info = this.parts.engine.state.tensorInfo.get(tensor.dataId);
    const data = info?.backend.tensorMap?.get(tensor.dataId);
    // A complex64 tensor holds no values of its own: its two float32 parts do.
    const parts = complexParts(data);
    if (parts !== null) return info !== undefined && parts.every((part) => hasHostValuesOf(info, part.dataId));
    return data?.values != null;
  }

  /**
   * What a read brings over: for a complex64, its float32 parts in GPU buffers (tfjs counts the
   * complex tensor itself as 0 bytes; a part still in a host array crosses nothing).
   */
  private readBytes(info: BufferInfo, from: string, dataId: DataId): number {
    const parts = complexParts(info.backend.tensorMap?.get(dataId));
    if (parts === null) return bytesOn(info, from);
    const state = this.parts.engine.state.tensorInfo;
    return parts.reduce((sum, part) => {
      const partInfo = state.get(part.dataId);
      return sum + (partInfo === undefined || hasHostValuesOf(info, part.dataId) ? 0 : bytesOn(partInfo, from));
    }, 0);
  }

  private tfjsBytes(tensor: TensorLike): number {
    return this.parts.engine.state.tensorInfo.get(tensor.dataId)?.bytes ?? 0;
  }
}

/**
 * Whether the backend holds these values on the host: a GPU backend's before first use, or a read's
 * host copy beside the GPU buffer (unlike heldInHostArray, which is the first only).
 */
function hasHostValuesOf(info: BufferInfo, dataId: DataId): boolean {
  return info.backend.tensorMap?.get(dataId)?.values != null;
}
