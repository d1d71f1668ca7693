// Per-op placement, move accounting and live memory, as hooks on the tfjs engine instance.
// tfjs runs every op on its *current* backend and pulls other inputs there. Here an op runs where
// its inputs live (as in PyTorch): the hook points the engine at that backend for the one call,
// which costs ~0.1 µs, where tf.setBackend costs ~200 µs (measured on this machine).
// The hooks go on the engine instance shared by tfjs-core and tfjs-layers' bundled copy of it.
import type { DevicePolicy, Direction, MoveLeg, MoveWait } from './device-control';
import type { BackendLike, BufferInfo, DataId, EngineLike, TensorLike } from './engine-internals';
import { listText } from '../text';
import { moveKeepingSource } from './keep-source-move';
import { GpuAllocationError, inputReferences, restoreInputReferences } from './transfer/gpu-allocation';
import { isWebGpuBackend, type WebGpuBackend } from './transfer/gpu-types';
import type { TransferEngine } from './transfer/transfer-engine';
import type { PassedArguments } from './move-records';

const DEVICE = Symbol('tsgpu.device');
const REGISTERED_AS = Symbol('tsgpu.registeredAs');
const WEBGPU = Symbol('tsgpu.webGpu');

/** Backends carry their names (and whether they are tfjs-backend-webgpu), so the per-op path never searches the registry. */
type NamedBackend = BackendLike & { [DEVICE]?: string; [REGISTERED_AS]?: string; [WEBGPU]?: boolean };

/** isWebGpuBackend, asked once per backend rather than per op. */
function webGpuOf(backend: BackendLike): WebGpuBackend | null {
  const named = backend as NamedBackend;
  named[WEBGPU] ??= isWebGpuBackend(backend);
  return named[WEBGPU] ? backend as WebGpuBackend : null;
}

export interface MoveEvent {
  direction: Direction;
  from: string;
  to: string;
  bytes: number;
  /** Waiting before the copy (queued GPU work, staging set-up), and the copy itself. */
  waitMs: number;
  copyMs: number;
  waits: MoveWait[];
  /**
   * When the user's call that made this move entered the kernel (x.to(), x.data()): the move's time
   * runs from there to its record, and what its waits and copy leave of that is the kernel's own
   * work on the call (a `tsgpu` wait). Absent for moves no user call made (an op's).
   */
  calledAt?: number;
  /** When the copy ended, where the move went on after it (see MoveTiming). */
  copyEnd?: number;
  /** The copy was one call on the thread (see MoveTiming). */
  copyOnThread?: true;
  operation: string;
  explicit: boolean;
  scalar: boolean;
  /** The buffer that moved (tfjs keeps one BufferInfo per buffer across moves); absent for a readback, which moves nothing. */
  buffer?: BufferInfo;
  /** A move between two GPUs: its legs through the host. */
  legs?: MoveLeg[];
  /** A move the policy made for an op: the op's input already on the destination, which drew the op there. */
  anchor?: OpAnchor;
  /** A policy's move of an op's input: which input it was (`a`, `b`, `x`), as tfjs names the op's inputs. */
  input?: string;
  /**
   * Host values a tensor was made from, uploaded by tfjs-backend-webgpu inside the first GPU op
   * that used it (a mapped buffer, copied on the GPU queue later): bytes exact, time not measured.
   */
  untimed?: true;
  /** Of those, a result of an op tfjs ran on the CPU (a slice of the user's input, say), not host values made as such. */
  opResult?: true;
}

/** An op's input on a GPU that drew the op there, its other inputs moved to it: its buffer, and its name if a variable's. */
export interface OpAnchor {
  buffer: BufferInfo;
  /** tf.Variable's name (a layer's 'dense_Dense1/kernel', or a number tfjs gave an unnamed one); null for a plain tensor. */
  name: string | null;
  /** Which input of the op it was (`a`, `b`, `x`): the line's name for it is found by it (input-names.ts). */
  input: string;
}

/** The session's note of where a tensor made from host values on a GPU was made (its cell line and call). */
export type CreationSite = object;

export interface PlacementEvents {
  move(event: MoveEvent): void;
  /** Every buffer that changed devices, even when no byte crossed (served from a host copy): `operation` null for an implicit move. */
  placed(buffer: BufferInfo, device: string, operation: string | null): void;
  /** `warn` policy: called once per op and call site with a line of text. */
  warn(kernelName: string, message: string): void;
  /** A tensor was made on a GPU from host values: where, so that its upload at first use is credited there. */
  created(): CreationSite;
  /** Those host values crossed to the GPU (at the first op that used them). */
  uploaded(event: MoveEvent, site: CreationSite): void;
  /** The user's explicit placement of a buffer (`model.to` in cell 4), when the user put it where it is now. */
  explicitPlacement(buffer: BufferInfo): { operation: string; cell: number } | null;
  /** The library call running (predict, fit), for messages that name what the user called. */
  libraryCall(): string | null;
  /** The variable the running op's line passes as its input `key` (`a`, `b`, `x`) of the op running `kernelName`, for advice that names it; null when the line does not say. */
  inputName(key: string, kernelName: string): string | null;
  /** The library call running (fit, predict) and the tensors passed to it, as its line names them; null outside one. */
  passedArguments(): PassedArguments | null;
}

/** What one device did during a cell. */
export interface DeviceActivity {
  ops: number;
  /**
   * Of ops, those a GPU's tfjs backend ran on the host: tfjs-backend-webgpu computes an op on the
   * CPU when its inputs are small and still in host arrays (WEBGPU_CPU_FORWARD), and always for a
   * few kernels (Range). The tensors stay the GPU's; their values stay in host memory.
   */
  hostOps: number;
  /**
   * Host time of every op, each timed for itself, as tfjs runs it: from the op's call to its
   * return (tfjs's own work around the kernel included), or the kernel alone where it ran outside
   * an op.
   */
  timedMs: number;
  /** Busy spans as flat [start, end, start, end…] in performance.now() ms, merged when close. */
  spans: number[];
  /** Ops by kernel name, kept only while %placement is on; those in hostOps are in hostKernels instead. */
  kernels: Map<string, number> | null;
  hostKernels: Map<string, number> | null;
}

/** %placement: one op counted under `from` was in fact of `to` (a GPU op tfjs ran on the host). */
function moveCount(from: Map<string, number> | null, to: Map<string, number> | null, kernelName: string): void {
  if (from === null || to === null) return;
  const left = (from.get(kernelName) ?? 1) - 1;
  if (left > 0) from.set(kernelName, left);
  else from.delete(kernelName);
  to.set(kernelName, (to.get(kernelName) ?? 0) + 1);
}

/*
 * What is timed is the op as tfjs runs it: its scope (`<name>__op`, opened by tfjs's op wrapper
 * before it converts the arguments, closed after it has disposed the op's intermediate tensors),
 * with every kernel in it. Timing the kernel call alone left out tfjs's work around it: 10,000
 * tiny muls on cpu showed 28 ms of host time where the cell timed 169 ms around its own calls.
 * A kernel run outside any op (by a library, or tfjs itself) is timed alone. Nested ops and
 * kernels are inside the outer one's time and not timed again; one whose kernels run on two
 * devices gives each device the time from its kernel's start until the next device's.
 *
 * Every op is timed, tiny host ops too, at two performance.now() calls (~0.1–0.2 µs) each. Sampling
 * them (one in 16, scaled up) was cheaper but untrue: a counter-based sample lands on the same op of
 * a repeating loop, so a 16 ms tile among 15 tiny adds claimed 10,871 ms of host time in a 2.4 s cell,
 * and one slot later 24 ms; no gate on input sizes tells a heavy op with small inputs (tile, oneHot,
 * a 60×60 matMul) from a light one.
 */
const NO_EXTRA = { waitMs: 0, copyMs: 0, waits: [] as MoveWait[] };
/** tfjs's op wrapper names each op's scope `<op>__op` (tfjs-core ops/operation.js, OP_SCOPE_SUFFIX). */
const OP_SCOPE_SUFFIX = '__op';
/** Ops closer than this join one busy span on the timeline. */
const SPAN_GAP_MS = 2;
const MAX_SPANS = 400;

export class MixedDeviceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

export function isGpuName(name: string): boolean {
  return name.startsWith('gpu:');
}

/**
 * Bytes a buffer takes on `device`: tfjs counts a bool as 1 byte, but tfjs-backend-webgpu keeps
 * (and moves) every bool as a 32-bit integer.
 */
export function bytesOn(info: Pick<BufferInfo, 'bytes' | 'dtype'>, device: string): number {
  return info.dtype === 'bool' && isGpuName(device) ? info.bytes * 4 : info.bytes;
}

/** %profile's view of each op: called around it, nested ops included. */
export interface OpProfileHooks {
  begin(kernelName: string, device: string, backend: BackendLike, inputs: Record<string, TensorLike | undefined> | TensorLike[]): void;
  /** `onHost`: a GPU's backend ran the op on the host (see DeviceActivity.hostOps). */
  end(result: unknown, onHost: boolean): void;
}

/** A device's live tensors, each buffer once. */
export interface LiveMemory {
  /** In the device's own memory: host memory for cpu, GPU buffers for a GPU. */
  bytes: number;
  buffers: number;
  /**
   * A GPU's tensors whose values its tfjs backend keeps in host arrays, with no GPU buffer: made from
   * host values and not used by a GPU op yet, or results of ops it ran on the host. Not GPU memory;
   * they move to `bytes` when tfjs uploads them (inside the first GPU op that uses them).
   */
  hostBytes: number;
  hostBuffers: number;
}

type OpInputs = Record<string, TensorLike | undefined> | TensorLike[];

/**
 * A GPU backend's buffer whose values are in a host array only: no GPU buffer holds them. Asked of
 * the backend that holds the buffer, several times per op: one lookup in tfjs's own map where it
 * has one, rather than DataStorage.get's two.
 */
function inHostArray(backend: BackendLike, dataId: DataId): boolean {
  const map = backend.tensorMap;
  if (map === undefined) return false;
  const data = map.data !== undefined ? map.data.get(dataId) : map.get(dataId);
  return data !== undefined && data.values != null && data.resource == null;
}

/**
 * Whether a GPU backend ran an op on the host: its new outputs hold host arrays and no GPU buffer,
 * which GPU work cannot fill before the op returns (reading a GPU is asynchronous). Outputs that
 * are inputs (reshape, identity) are no work anywhere and do not count.
 */
function ranOnHost(backend: BackendLike, inputs: OpInputs, result: unknown): boolean {
  const outputs = Array.isArray(result) ? result as unknown[] : [result];
  let made = 0;
  for (const output of outputs) {
    const dataId = (output as TensorLike | null | undefined)?.dataId;
    if (dataId === undefined || isInput(inputs, dataId)) continue;
    if (!inHostArray(backend, dataId)) return false;
    made++;
  }
  return made > 0;
}

/** The key of the op's input holding `dataId` (`a`, `b`, `x`), or null. */
function inputKeyOf(inputs: OpInputs, dataId: DataId): string | null {
  for (const key in inputs) {
    if ((inputs as Record<string, TensorLike | undefined>)[key]?.dataId === dataId) return key;
  }
  return null;
}

function isInput(inputs: OpInputs, dataId: DataId): boolean {
  for (const key in inputs) {
    if ((inputs as Record<string, TensorLike | undefined>)[key]?.dataId === dataId) return true;
  }
  return false;
}

export class Placement {
  policy: DevicePolicy = 'auto';
  /** Set while %profile is on. */
  profiler: OpProfileHooks | null = null;
  /** What each device did since the last takeActivity(). */
  private activity: Record<string, DeviceActivity> = Object.create(null) as Record<string, DeviceActivity>;
  /** %placement on: ops are also counted by kernel name. */
  logKernels = false;
  /** Live bytes and buffers per device. */
  readonly live: Record<string, LiveMemory> = Object.create(null) as Record<string, LiveMemory>;
  /** A GPU's buffers counted in its hostBytes (values in a host array only), until uploaded, moved or freed. */
  private readonly heldOnHost = new WeakSet<BufferInfo>();
  private kernelName = '';
  /** The running op's input on a GPU that drew it there (targetOf), for the policy's moves of its other inputs. */
  private opAnchor: OpAnchor | null = null;
  /** The running op's inputs, for naming which of them a policy's move moved. */
  private opInputs: OpInputs | null = null;
  /** Set while an explicit move (`to`, `data`) runs: its moves are the user's, not the policy's. */
  private explicitOperation: string | null = null;
  /** Time an explicit move spent before tfjs's move (the GPU readback), added to what is recorded. */
  private explicitExtra: { waitMs: number; copyMs: number; waits: MoveWait[] } = NO_EXTRA;
  private readonly wasmKernels: Set<string>;
  /**
   * Whether an op belongs to the running cell (the session asks the interpreter whose work is
   * running). It throws for work left over from an interrupted cell, so that work stops here
   * rather than running on; work of another cell runs but is counted apart (takeStray).
   */
  ownsOp: () => boolean = () => true;
  private strayActivity: Record<string, DeviceActivity> = Object.create(null) as Record<string, DeviceActivity>;
  private inStray = false;
  /**
   * The running cell made a tensor no kernel made (tf.tensor, tf.ones, tf.randomNormal make theirs
   * with none), or moved one with no byte crossing (served from the host copy a read kept): it
   * touched tensors, and its report says where they live.
   */
  private changedOutsideOps = false;
  /**
   * Whether the code running now is the running cell's (not a timer an earlier cell left). Unlike
   * ownsOp it never throws: asked inside tfjs's makeTensor, an interrupted cell's error there would
   * lose the tensor it had just counted.
   */
  runningCellOwns: () => boolean = () => true;
  /** Ops and kernels running inside the one being timed, itself included: 0 when none runs. */
  private timingDepth = 0;
  /** The open part of the timed op: since when, and whose time it is (null until its first kernel says). */
  private segmentStart = 0;
  private segmentActivity: DeviceActivity | null = null;
  /** tfjs's scope of the op being timed: its endScope ends the timing. */
  private opScope: object | null = null;
  /**
   * GPU buffers made from host values that tfjs-backend-webgpu has not uploaded yet (it does so
   * inside the first op that uses them), with where each was made.
   */
  private readonly pendingUploads = new WeakMap<DataId, CreationSite>();
  /** Of those, results of ops (tfjs-webgpu computes small ops on the CPU): made from what the op was given, not from host values. */
  private readonly opResults = new WeakSet<DataId>();
  /** Kernels being dispatched now: a tensor tracked meanwhile is an op's result. */
  private dispatchDepth = 0;
  /**
   * Every buffer in pendingUploads or heldOnHost (and some that have left them since): the upload
   * hook's one lookup for the buffers it has nothing to do for. A stale entry only sends that
   * buffer down the exact path once.
   */
  private readonly uploadWatch = new WeakSet<DataId>();

  constructor(
    private readonly engine: EngineLike,
    private readonly events: PlacementEvents,
    kernelsOf: (backendName: string) => string[],
    private readonly transfers: TransferEngine,
  ) {
    this.wasmKernels = new Set(kernelsOf('wasm'));
  }

  /** `wasm` and `cpu` are both the host device `cpu`; `gpu:N` keeps its name. */
  deviceOf(backend: BackendLike): string {
    const named = backend as NamedBackend;
    if (named[DEVICE] === undefined) {
      const name = this.registeredName(backend);
      named[DEVICE] = name === 'wasm' || name === 'cpu' ? 'cpu' : name;
    }
    return named[DEVICE];
  }

  private registeredName(backend: BackendLike): string {
    const named = backend as NamedBackend;
    named[REGISTERED_AS] ??= Object.keys(this.engine.registry).find((key) => this.engine.registry[key] === backend) ?? 'unknown';
    return named[REGISTERED_AS];
  }

  /** Where a tensor's data is now (tfjs moves rather than copies, so this is asked every time). */
  deviceOfTensor(tensor: TensorLike): string | null {
    return this.deviceOfData(tensor.dataId);
  }

  /** Where a buffer's data is now; null once it is gone. */
  deviceOfData(dataId: DataId): string | null {
    const info = this.engine.state.tensorInfo.get(dataId);
    return info ? this.deviceOf(info.backend) : null;
  }

  /** The bytes a buffer takes where it is now (a bool is 4 bytes in a GPU buffer); 0 once it is gone. */
  bytesOfData(dataId: DataId): number {
    const info = this.engine.state.tensorInfo.get(dataId);
    if (!info) return 0;
    return this.heldOnHost.has(info) ? info.bytes : bytesOn(info, this.deviceOf(info.backend));
  }

  /** The bytes a buffer takes in its device's memory: 0 for a GPU's buffer whose values are in a host array only. */
  deviceBytesOfData(dataId: DataId): number {
    const info = this.engine.state.tensorInfo.get(dataId);
    return !info || this.heldOnHost.has(info) ? 0 : bytesOn(info, this.deviceOf(info.backend));
  }

  takeActivity(): Record<string, DeviceActivity> {
    // Ops are synchronous, so none runs when a cell starts or ends; one that an interrupt stopped
    // (the script terminated, no finally ran) left its timing open.
    this.timingDepth = 0;
    this.opScope = null;
    this.segmentActivity = null;
    const activity = this.activity;
    this.activity = Object.create(null) as Record<string, DeviceActivity>;
    return activity;
  }

  /** Whether the running cell made or moved a tensor outside any op, with no move recorded, since the last call. */
  takeChanged(): boolean {
    const changed = this.changedOutsideOps;
    this.changedOutsideOps = false;
    return changed;
  }

  /** What other cells' leftover work did since the last call. */
  takeStray(): Record<string, DeviceActivity> {
    const stray = this.strayActivity;
    this.strayActivity = Object.create(null) as Record<string, DeviceActivity>;
    return stray;
  }

  /** Runs one op of another cell's work, counting it apart from the running cell's. */
  private asStray<T>(run: () => T): T {
    const own = this.activity;
    this.activity = this.strayActivity;
    this.inStray = true;
    try {
      return run();
    } finally {
      this.strayActivity = this.activity;
      this.activity = own;
      this.inStray = false;
    }
  }

  private activityOf(device: string): DeviceActivity {
    const created: DeviceActivity = { ops: 0, hostOps: 0, timedMs: 0, spans: [], kernels: this.logKernels ? new Map() : null, hostKernels: this.logKernels ? new Map() : null };
    this.activity[device] = created;
    return created;
  }

  private timed(activity: DeviceActivity, started: number, ended: number): void {
    activity.timedMs += ended - started;
    const spans = activity.spans;
    if (spans.length > 0 && started - spans[spans.length - 1]! < SPAN_GAP_MS) spans[spans.length - 1] = ended;
    else if (spans.length < MAX_SPANS * 2) spans.push(started, ended);
    else spans[spans.length - 1] = ended;
  }

  /** An op or kernel begins: the outermost one opens the timing, one inside it runs on inside its time. */
  private beginTiming(activity: DeviceActivity | null): void {
    if (this.timingDepth++ === 0) {
      this.segmentStart = performance.now();
      this.segmentActivity = activity;
    } else if (activity !== null && activity !== this.segmentActivity) this.switchSegment(activity);
  }

  /** A kernel inside the timed op runs for another device (or is the op's first): its time is that device's from now. */
  private switchSegment(activity: DeviceActivity): void {
    const previous = this.segmentActivity;
    this.segmentActivity = activity;
    if (previous === null) return;
    const now = performance.now();
    this.timed(previous, this.segmentStart, now);
    this.segmentStart = now;
  }

  /** The op or kernel ends: the outermost one closes the timing. An op that ran no kernel is on no device, and not counted. */
  private endTiming(): void {
    if (--this.timingDepth > 0) return;
    this.timingDepth = 0;
    const activity = this.segmentActivity;
    this.segmentActivity = null;
    if (activity !== null) this.timed(activity, this.segmentStart, performance.now());
  }

  /**
   * Makes a backend current for `run` (and, when it returns a promise, until that settles), the
   * cheap way the op hook does, without tf.setBackend's profiler rebuild.
   */
  runOn<T>(backendName: string, run: () => T): T {
    const engine = this.engine;
    const target = engine.registry[backendName];
    if (!target || target === engine.backendInstance) return run();
    const [previousName, previous] = [engine.backendName, engine.backendInstance];
    engine.backendName = backendName;
    engine.backendInstance = target;
    const restore = (): void => {
      engine.backendName = previousName;
      engine.backendInstance = previous;
    };
    let result: T;
    try {
      result = run();
    } catch (error) {
      restore();
      throw error;
    }
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
  }

  /** Host ms spent in a device's ops. */
  static opMs(activity: DeviceActivity): number {
    return activity.timedMs;
  }

  /** Runs an explicit move; the moves it makes are recorded as `operation`, never refused by policy. */
  explicitly<T>(operation: string, run: () => T, extra: { waitMs: number; copyMs: number; waits: MoveWait[] } = NO_EXTRA): T {
    const [previous, previousExtra] = [this.explicitOperation, this.explicitExtra];
    this.explicitOperation = operation;
    this.explicitExtra = extra;
    try {
      return run();
    } finally {
      this.explicitOperation = previous;
      this.explicitExtra = previousExtra;
    }
  }

  /** Runs the kernel on `target`, pointing the engine at it for the one call. */
  private dispatch(engine: EngineLike, proto: EngineLike, target: BackendLike, current: BackendLike, kernelName: string,
    inputs: Record<string, TensorLike | undefined> | TensorLike[], attrs: unknown): unknown {
    if (target === current) return proto.runKernel.call(engine, kernelName, inputs, attrs);
    const currentName = engine.backendName;
    engine.backendName = (target as NamedBackend)[REGISTERED_AS] ?? this.registeredName(target);
    engine.backendInstance = target;
    try {
      return proto.runKernel.call(engine, kernelName, inputs, attrs);
    } finally {
      engine.backendName = currentName;
      engine.backendInstance = current;
    }
  }

  install(): void {
    const engine = this.engine;
    const proto = Object.getPrototypeOf(engine) as EngineLike;
    const placement = this;
    const wasm = engine.registry['wasm'];
    const cpu = engine.registry['cpu'];

    engine.runKernel = function runKernel(kernelName, inputs, attrs): unknown {
      if (!placement.inStray && !placement.ownsOp()) return placement.asStray((): unknown => runKernel.call(this, kernelName, inputs, attrs));
      placement.kernelName = kernelName;
      const outerAnchor = placement.opAnchor;
      const outerInputs = placement.opInputs;
      placement.opAnchor = null;
      placement.opInputs = inputs;
      let target = placement.targetOf(kernelName, inputs);
      const current = this.backendInstance;
      if (target === null) target = current;
      // Kernels wasm lacks (Complex, FFT, Einsum…) run on the cpu backend: host work, not a transfer.
      if (target === wasm && cpu && !placement.wasmKernels.has(kernelName)) target = cpu;
      const device = (target as NamedBackend)[DEVICE] ?? placement.deviceOf(target);
      const activity = placement.activity[device] ?? placement.activityOf(device);
      activity.ops++;
      activity.kernels?.set(kernelName, (activity.kernels.get(kernelName) ?? 0) + 1);
      const onHost = target === wasm || target === cpu;
      // targetOf saw every input's size: the inputs are looked at again only when one may be too big to bind.
      if (!onHost && placement.largestInput > (placement.bindingLimits.get(device) ?? Infinity)) placement.checkBufferLimit(kernelName, device, inputs);
      placement.beginTiming(activity);
      const webGpu = onHost ? null : webGpuOf(target);
      // A GPU op refused for its buffer size may have taken references on its inputs: kept to put back.
      const references = webGpu === null ? null : inputReferences(webGpu, inputs);
      // %profile: one null check per op while it is off. Another cell's code's ops (a timer, detached
      // work) are not the cell's: its table listed them while its report said "not counted".
      const profiler = placement.inStray ? null : placement.profiler;
      if (profiler !== null) profiler.begin(kernelName, device, target, inputs);
      let result: unknown;
      let forwarded = false;
      placement.dispatchDepth++;
      try {
        result = placement.dispatch(this, proto, target, current, kernelName, inputs, attrs);
        forwarded = webGpu !== null && ranOnHost(webGpu, inputs, result);
      } catch (error) {
        if (webGpu !== null && references !== null && error instanceof GpuAllocationError) restoreInputReferences(webGpu, inputs, references);
        throw error;
      } finally {
        placement.dispatchDepth--;
        if (profiler !== null) profiler.end(result, forwarded);
        placement.endTiming();
        placement.opAnchor = outerAnchor;
        placement.opInputs = outerInputs;
      }
      if (forwarded) {
        activity.hostOps++;
        moveCount(activity.kernels, activity.hostKernels, kernelName);
      }
      return result;
    };

    // An op is timed whole, from tfjs's op wrapper opening its scope to its closing it. Scopes
    // inside a timed op (its inner ops, tidy) cost one comparison each.
    engine.startScope = function startScope(name) {
      if (placement.timingDepth !== 0 || typeof name !== 'string' || !name.endsWith(OP_SCOPE_SUFFIX)) {
        proto.startScope.call(this, name);
        return;
      }
      placement.beginTiming(null);
      proto.startScope.call(this, name);
      placement.opScope = this.state.activeScope;
    };

    engine.endScope = function endScope(result) {
      if (placement.opScope === null || this.state.activeScope !== placement.opScope) {
        proto.endScope.call(this, result);
        return;
      }
      placement.opScope = null;
      try {
        proto.endScope.call(this, result);
      } finally {
        placement.endTiming();
      }
    };

    // tf.variable() and Variable.assign() would pull their data to the current backend.
    engine.incRef = function incRef(tensor, backend) {
      const info = this.state.tensorInfo.get(tensor.dataId);
      if (!info) return proto.incRef.call(this, tensor, backend);
      this.trackTensor(tensor, backend);
      info.backend.incRef(tensor.dataId);
    };

    // Every synchronous move between backends comes through here (an op needing its input
    // elsewhere, or an explicit move tfjs can make at once): the one place to count them.
    engine.moveData = function moveData(backend, dataId) {
      const info = this.state.tensorInfo.get(dataId);
      // tfjs reads the buffer's entry without looking (a TypeError about 'backend' for fit on a disposed x).
      if (!info) throw new Error('Tensor is disposed: it has no values to move (it was disposed before this op used it). Make it again, or dispose it only when done.');
      const from = placement.deviceOf(info.backend);
      const to = placement.deviceOf(backend);
      placement.refuseSyncReadback(info.backend, dataId, from, to);
      // Host values leaving the GPU they were made on before it uploaded them: this move is the record.
      placement.pendingUploads.delete(dataId);
      // A GPU buffer whose values a read already brought to the host: the move hands over that
      // host copy, and nothing crosses the bus.
      const servedFromHostCopy = isGpuName(from) && !isGpuName(to) && info.backend.tensorMap?.get(dataId)?.values != null;
      const started = performance.now();
      let setupMs = 0;
      if (!isGpuName(from) && isWebGpuBackend(backend) && placement.transfers.handles(info)) {
        setupMs = placement.transfers.uploadNow(dataId, backend).setupMs;
      } else {
        // A GPU's host array going to another GPU (a scalar tfjs made on the current device for an
        // op on gpu:1) is uploaded there below: counted as held by its own GPU's live bytes first,
        // so that the move takes it off them (the upload counted it off the target's host arrays,
        // and the source showed -4 B live).
        if (isGpuName(from) && isGpuName(to)) placement.countHeldAsLive(info, from);
        moveKeepingSource(this, backend, dataId, { from, to });
        // tfjs uploads lazily, inside the next GPU op; upload now so the move is timed as a move.
        if (isGpuName(to)) backend.uploadToGPU?.(dataId);
      }
      const extra = placement.explicitExtra;
      // A first upload's staging buffers (~25 ms for 8 MiB on lavapipe) showed as its copy: 1 MiB at 0.041 GB/s.
      const setup: MoveWait[] = setupMs > 0 ? [{ cause: 'staging-setup', ms: setupMs, device: to, earlierCells: [] }] : [];
      placement.recordMove(info, from, to, {
        waitMs: extra.waitMs + setupMs, copyMs: performance.now() - started - setupMs + extra.copyMs, waits: [...extra.waits, ...setup],
      }, servedFromHostCopy, dataId);
    };

    engine.trackTensor = function trackTensor(tensor, backend) {
      const known = this.state.tensorInfo.has(tensor.dataId);
      proto.trackTensor.call(this, tensor, backend);
      if (known) return;
      const info = this.state.tensorInfo.get(tensor.dataId);
      if (info) {
        // Made by a kernel, the op counts already; asked only of tensors made outside one
        // (tf.randomNormal is an op that runs none: its scope is open, no kernel ran in it).
        if (placement.segmentActivity === null && !placement.changedOutsideOps && !placement.inStray && placement.runningCellOwns()) placement.changedOutsideOps = true;
        const device = placement.deviceOf(info.backend);
        // Host tensors end here: one string test on the per-op path.
        if (!isGpuName(device)) placement.account(device, info.bytes, 1);
        else if (!inHostArray(info.backend, tensor.dataId)) placement.account(device, bytesOn(info, device), 1);
        else {
          // Host values on a GPU (tf.tensor, tf.scalar, an op's constant): held on the host until uploaded.
          placement.holdOnHost(info, device, tensor.dataId);
          if (info.bytes > 0) placement.notePendingUpload(tensor.dataId);
        }
      }
    };

    engine.removeDataId = function removeDataId(dataId, backend) {
      const info = this.state.tensorInfo.get(dataId);
      if (info && info.backend === backend) placement.dropLive(info, placement.deviceOf(backend));
      proto.removeDataId.call(this, dataId, backend);
    };
  }

  /** A new GPU buffer holding host values (tf.tensor, tf.scalar, randomNormal…): its upload is to come. */
  private notePendingUpload(dataId: DataId): void {
    if (this.dispatchDepth > 0) this.opResults.add(dataId);
    this.pendingUploads.set(dataId, this.events.created());
    this.uploadWatch.add(dataId);
  }

  /**
   * tfjs-backend-webgpu uploads a buffer's host values inside the first op that uses it: the buffer
   * then counts in the GPU's memory, and each such upload of a tensor made on this GPU is recorded
   * as an H2D move, credited to where it was made.
   */
  watchUploads(gpu: WebGpuBackend): void {
    const upload = gpu.uploadToGPU.bind(gpu);
    const device = this.deviceOf(gpu);
    gpu.uploadToGPU = (dataId: DataId): void => {
      // tfjs calls this for every input of every GPU op: most are in GPU buffers already, and one
      // lookup says so (uploadWatch holds every buffer pending or held on the host, and maybe more).
      if (!this.uploadWatch.has(dataId)) return upload(dataId);
      const site = this.pendingUploads.get(dataId);
      const before = this.engine.state.tensorInfo.get(dataId);
      if (site === undefined && (before === undefined || !this.heldOnHost.has(before))) {
        this.uploadWatch.delete(dataId);
        return upload(dataId);
      }
      this.pendingUploads.delete(dataId);
      const crosses = inHostArray(gpu, dataId);
      upload(dataId);
      const info = this.engine.state.tensorInfo.get(dataId);
      // Still held on the host (nothing crossed): watched on; else off the watch.
      if (info === undefined || !this.heldOnHost.has(info) || (crosses && info.backend === gpu)) this.uploadWatch.delete(dataId);
      if (!crosses || info === undefined || info.backend !== gpu) return;
      if (this.heldOnHost.delete(info)) {
        this.account(device, 0, 0, -info.bytes, -1);
        this.account(device, bytesOn(info, device), 1);
      }
      if (site === undefined) return;
      this.events.uploaded({
        direction: 'H2D', from: 'cpu', to: device, bytes: bytesOn(info, device), waitMs: 0, copyMs: 0, waits: [],
        operation: this.kernelName, explicit: false, scalar: info.shape.length === 0, buffer: info, untimed: true,
        ...(this.opResults.has(dataId) ? { opResult: true as const } : {}),
      }, site);
    };
  }

  /**
   * Counts a finished move: live bytes change devices, and the move is reported (unless host to
   * host, or served from a host copy a read kept: then no byte crossed).
   */
  recordMove(info: BufferInfo, from: string, to: string, timing: { waitMs: number; copyMs: number; waits: MoveWait[]; calledAt?: number; copyEnd?: number; copyOnThread?: true }, servedFromHostCopy = false,
    dataId: DataId | null = null): void {
    if (from !== to) {
      this.dropLive(info, from);
      this.addLive(info, to, dataId);
      this.events.placed(info, to, this.explicitOperation);
    }
    if (from === to) return;
    if (servedFromHostCopy) {
      // No byte crossed, so no move is recorded; live memory changed all the same.
      if (!this.inStray && this.runningCellOwns()) this.changedOutsideOps = true;
      return;
    }
    const direction: Direction = isGpuName(from) && isGpuName(to) ? 'D2D' : isGpuName(to) ? 'H2D' : isGpuName(from) ? 'D2H' : 'host';
    const event: MoveEvent = {
      direction, from, to, bytes: Math.max(bytesOn(info, from), bytesOn(info, to)), ...timing,
      operation: this.explicitOperation ?? this.kernelName, explicit: this.explicitOperation !== null, scalar: info.shape.length === 0,
      buffer: info,
    };
    if (this.explicitOperation === null && this.opAnchor !== null && this.opAnchor.buffer !== info) event.anchor = this.opAnchor;
    if (this.explicitOperation === null && dataId !== null && this.opInputs !== null) {
      const input = inputKeyOf(this.opInputs, dataId);
      if (input !== null) event.input = input;
    }
    this.events.move(event);
  }

  /** Counts a buffer's move in live memory (and where it was put) only; whoever made the move records it. */
  moved(info: BufferInfo, from: string, to: string, operation: string): void {
    if (from === to) return;
    this.dropLive(info, from);
    this.addLive(info, to, null);
    this.events.placed(info, to, operation);
  }

  /** Largest buffer one GPU op may bind, per device (WebGPU's maxStorageBufferBindingSize). */
  readonly bindingLimits = new Map<string, number>();
  /** The bytes of the running op's largest input, as targetOf found them. */
  largestInput = 0;

  /**
   * Beyond the binding limit Dawn reports a validation error and tfjs quietly returns zeros:
   * refuse the op instead, and say what to do.
   */
  checkBufferLimit(kernelName: string, device: string, inputs: Record<string, TensorLike | undefined> | TensorLike[]): void {
    const limit = this.bindingLimits.get(device);
    if (limit === undefined) return;
    for (const key in inputs) {
      const tensor = (inputs as Record<string, TensorLike | undefined>)[key];
      const bytes = tensor?.dataId === undefined ? 0 : this.engine.state.tensorInfo.get(tensor.dataId)?.bytes ?? 0;
      if (bytes > limit) {
        throw new MixedDeviceError(`${kernelName}: input '${key}' is ${(bytes / 2 ** 20).toFixed(1)} MiB, more than ${device} can bind `
          + `in one op (${(limit / 2 ** 20).toFixed(0)} MiB): split it (tf.split / slices), or run this op on the host: await x.cpu().`);
      }
    }
  }

  /**
   * Counts a buffer now on `device`: a GPU's buffer whose values are in a host array only counts as
   * held on the host. Without its dataId (a move the transfer engine made) it is in a GPU buffer:
   * those moves write one.
   */
  private addLive(info: BufferInfo, device: string, dataId: DataId | null): void {
    if (isGpuName(device) && dataId !== null && inHostArray(info.backend, dataId)) this.holdOnHost(info, device, dataId);
    else this.account(device, bytesOn(info, device), 1);
  }

  /**
   * A GPU buffer's host values uploaded by the user's move (x.to('gpu:0') of a tensor made there):
   * counted in the GPU's live bytes now, with no upload at first use to come.
   */
  uploadedInPlace(info: BufferInfo, dataId: DataId, device: string, operation: string): void {
    this.pendingUploads.delete(dataId);
    this.uploadWatch.delete(dataId);
    this.countHeldAsLive(info, device);
    // The user's choice of device, as any explicit move's: the hints never advise undoing it.
    this.events.placed(info, device, operation);
  }

  /** Counts a GPU's buffer whose values are in a host array only, and watches for its upload. */
  private holdOnHost(info: BufferInfo, device: string, dataId: DataId): void {
    this.heldOnHost.add(info);
    this.uploadWatch.add(dataId);
    this.account(device, 0, 0, info.bytes, 1);
  }

  /** Uncounts a buffer leaving `device` (moved or freed), from where it was counted. */
  /** A buffer `device` kept in a host array, counted in its live bytes instead (it is about to leave). */
  private countHeldAsLive(info: BufferInfo, device: string): void {
    if (this.heldOnHost.delete(info)) this.account(device, bytesOn(info, device), 1, -info.bytes, -1);
  }

  private dropLive(info: BufferInfo, device: string): void {
    if (this.heldOnHost.delete(info)) this.account(device, 0, 0, -info.bytes, -1);
    else this.account(device, -bytesOn(info, device), -1);
  }

  private account(device: string, bytes: number, buffers: number, hostBytes = 0, hostBuffers = 0): void {
    const entry = this.live[device] ??= { bytes: 0, buffers: 0, hostBytes: 0, hostBuffers: 0 };
    entry.bytes += bytes;
    entry.buffers += buffers;
    entry.hostBytes += hostBytes;
    entry.hostBuffers += hostBuffers;
  }

  /** The backend an op runs on: where its inputs are; a GPU input wins over host inputs. */
  private targetOf(kernelName: string, inputs: Record<string, TensorLike | undefined> | TensorLike[]): BackendLike | null {
    const tensorInfo = this.engine.state.tensorInfo;
    let target: BackendLike | null = null;
    let targetInput = '';
    let largest = 0;
    this.largestInput = 0;
    for (const key in inputs) {
      const tensor = (inputs as Record<string, TensorLike | undefined>)[key];
      if (tensor === undefined || tensor === null || tensor.dataId === undefined) continue;
      const info = tensorInfo.get(tensor.dataId);
      if (info === undefined) continue;
      if (info.bytes > largest) this.largestInput = largest = info.bytes;
      if (info.backend === target) continue;
      if (target === null) {
        target = info.backend;
        targetInput = key;
        continue;
      }
      const here = this.deviceOf(info.backend);
      const there = this.deviceOf(target);
      if (here === there) continue; // wasm and cpu are one device
      const gpuHere = isGpuName(here);
      if (gpuHere && isGpuName(there)) {
        // A 0-d scalar goes where the op runs, as from the host: tfjs makes the 100 of m.div(100)
        // on the current device, and an op on gpu:1 under %device gpu:0 was refused for it.
        if (tensor.rank === 0) continue;
        if ((inputs as Record<string, TensorLike>)[targetInput]!.rank === 0) {
          target = info.backend;
          targetInput = key;
          continue;
        }
        throw new MixedDeviceError(`Expected all tensors to be on the same device, but found at least two devices, ${there} and ${here}! `
          + `(${kernelName}: input '${key}' is on ${here} but input '${targetInput}' is on ${there}.) Tensors on two GPUs are never `
          + `moved for you, under any %device_policy: move one first, e.g. await x.to('${there}') (through the host, recorded as one ${here} → ${there} move).`);
      }
      const hostInput = gpuHere ? targetInput : key;
      const hostTensor = gpuHere ? (inputs as Record<string, TensorLike>)[targetInput]! : tensor;
      const gpu = gpuHere ? here : there;
      // A 0-d host scalar (a learning rate, a constant) is always welcome on the GPU.
      if (hostTensor.rank !== 0) {
        this.applyPolicy(kernelName, hostInput, hostTensor, gpuHere ? key : targetInput, gpu);
        this.opAnchor ??= anchorOf(gpuHere ? tensor : (inputs as Record<string, TensorLike>)[targetInput]!, gpuHere ? key : targetInput, tensorInfo);
      }
      if (gpuHere) {
        target = info.backend;
        targetInput = key;
      }
    }
    return target;
  }

  private applyPolicy(kernelName: string, hostInput: string, hostTensor: TensorLike, gpuInput: string, gpu: string): void {
    if (this.policy === 'auto') return;
    const info = this.engine.state.tensorInfo.get(hostTensor.dataId);
    const placed = info === undefined ? null : this.events.explicitPlacement(info);
    if (placed !== null) {
      this.refuseOrWarnPlaced(kernelName, hostInput, placed, gpuInput, gpu);
      return;
    }
    // A tensor passed to a library call (fit's x on cpu, the model on gpu:0) is named as the call's
    // line passes it: the op's input inside the call is no name the user wrote.
    const call = this.events.passedArguments();
    const argumentText = (arg: { name: string | null; position: number }): string => arg.name ?? `<${call!.call}'s argument ${arg.position + 1}>`;
    const passed = call?.args.find((arg) => info !== undefined && arg.buffers.includes(info));
    // The model left on the host: its weights, and the tensors the call makes there (fit's batch
    // indices), are drawn to the GPU by its data; the model is what moves.
    const weight = call !== null && passed === undefined && call.modelOnHost;
    // Not passed itself but made inside the call (predict's batch, a slice of its x): from the
    // arguments still on the host, the call's data the user can move.
    const onHost = passed !== undefined || weight || call === null ? [] : call.args.filter((arg) => arg.onHost);
    const message = passed !== undefined ? `${call!.call}: ${passed.name ?? `its argument ${passed.position + 1}`} is on cpu but ${call!.call} runs on ${gpu} (${kernelName})`
      : weight ? `${call!.call}: the model${call!.receiver === null ? '' : ` (${call!.receiver})`} is on cpu but its data is on ${gpu} (${kernelName}: input '${hostInput}' is on cpu)`
        : onHost.length > 0 ? `${kernelName} in ${call!.call}: input '${hostInput}' is on cpu but the op runs on ${gpu}, and ${listText(onHost.map(argumentText))}, passed to ${call!.call}, ${onHost.length === 1 ? 'is' : 'are'} on cpu`
          : `${kernelName}: input '${hostInput}' is on cpu but the op runs on ${gpu}`;
    // Where the line does not name it, a placeholder that reads as none of the user's variables
    // (`x` was often the name of the user's GPU tensor, which the advice then told them to move).
    // Strict stops at the first: every argument still on the host is named, or the next run stops at the next.
    const hostArgs = passed !== undefined ? [passed, ...call!.args.filter((arg) => arg !== passed && arg.onHost)] : onHost;
    const name = hostArgs.length > 0 ? hostArgs.map(argumentText).join(`.to('${gpu}') and await `)
      : weight ? call!.receiver ?? `<${call!.call}'s model>`
        : this.events.inputName(hostInput, kernelName) ?? `<input '${hostInput}'>`;
    // Suggesting %device gpu:0 when it is already current would be no help.
    const current = this.deviceOf(this.engine.backendInstance);
    const makeIt = current === gpu ? '' : ` (or make it on ${gpu}: %device ${gpu})`;
    if (this.policy === 'strict') {
      throw new MixedDeviceError(`Expected all tensors to be on the same device, but found at least two devices, ${gpu} and cpu! `
        + `(${message}.) Under %device_policy strict tensors are not moved for you: move ${hostArgs.length > 1 ? 'them' : 'it'} first with await ${name}.to('${gpu}')${makeIt}, `
        + 'or allow implicit moves with %device_policy auto.');
    }
    const before = call === null || (passed === undefined && onHost.length === 0) ? '' : `, before ${call.call}`;
    this.events.warn(kernelName, `${message}: moved it there for you (H2D). Move it once yourself${before} with await ${name}.to('${gpu}').`);
  }

  /**
   * The host input is on cpu because the user put it there (model.to('cpu'), x.to('cpu')): the
   * message never advises undoing that alone; it offers both ways to put the inputs together.
   */
  private refuseOrWarnPlaced(kernelName: string, hostInput: string, placed: { operation: string; cell: number }, gpuInput: string, gpu: string): void {
    const call = this.events.libraryCall();
    const model = placed.operation === 'model.to';
    const subject = model ? "the model's weights are" : `input '${hostInput}' is`;
    const what = `${call ?? kernelName}: ${subject} on cpu (${placed.operation}, cell ${placed.cell}) and ${call ? 'its input' : `input '${gpuInput}'`} is on ${gpu}`;
    // The line's names for the inputs where it gives them; else tfjs's (`a`, `b`) as a placeholder, as the message quotes them.
    const named = (key: string): string => this.events.inputName(key, kernelName) ?? `<input '${key}'>`;
    const ways = `\`await ${call ? 'input' : named(gpuInput)}.to('cpu')\` to run it on cpu, or \`await ${model ? 'model' : named(hostInput)}.to('${gpu}')\` to run it on ${gpu}`;
    if (this.policy === 'strict') {
      throw new MixedDeviceError(`Expected all tensors to be on the same device, but found at least two devices, ${gpu} and cpu! `
        + `(${what}.) Under %device_policy strict tensors are not moved for you: ${ways}.`);
    }
    this.events.warn(kernelName, `${what}: moved ${model ? 'them' : 'it'} to ${gpu} for you (H2D). Put them together once: ${ways}.`);
  }

  /** A GPU→host move without a host copy needs an async read, which a synchronous op cannot do. */
  private refuseSyncReadback(source: BackendLike, dataId: DataId, from: string, to: string): void {
    if (!isGpuName(from) || isGpuName(to)) return;
    const data = source.tensorMap?.get(dataId);
    if (data && data.values == null && data.complexTensorInfos == null) {
      throw new MixedDeviceError(`${this.kernelName || 'this op'}: a tensor on ${from} is needed on the host, and reading a GPU is `
        + `asynchronous in WebGPU. Bring it over first: await x.cpu() (or await x.data() for its values).`);
    }
  }
}

/** An op's GPU input as the policy's moves name it: a variable by its name. */
function anchorOf(tensor: TensorLike, input: string, tensorInfo: EngineLike['state']['tensorInfo']): OpAnchor | null {
  const buffer = tensorInfo.get(tensor.dataId);
  if (buffer === undefined) return null;
  const named = tensor as { name?: unknown; trainable?: unknown };
  return { buffer, name: typeof named.name === 'string' && typeof named.trainable === 'boolean' ? named.name : null, input };
}
