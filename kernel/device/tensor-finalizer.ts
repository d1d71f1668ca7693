// Frees every tensor user code made once the garbage collector has found it unreachable, and never
// before: a name, a closure, a `globalThis` property, a `#private` field, a Map or WeakMap value, a
// promise's result, an array of any length or depth all keep a tensor alive, because the JS engine,
// not a walk of our own, decides what is reachable (as PyTorch's reference counts decide there).
//
// A FinalizationRegistry entry per op would cost far more than the per-op budget (0.5 µs), so ops
// only push the new tensor on a list; at the end of a cell (or at once under memory pressure) the
// survivors are registered and our references dropped, and a full GC frees what nothing reaches.
// Views and clones share their data under tfjs's reference count: each is registered, each
// finalizer gives back one reference, and the data goes with the last one.
import v8 from 'node:v8';
import vm from 'node:vm';
import type { BackendLike, DataId, EngineLike, TensorLike } from './engine-internals';

/** What engine.disposeTensor reads of a tensor (tfjs-core 4.22 engine.js), kept after the tensor is gone. */
interface HeldTensor {
  readonly dataId: DataId;
  readonly dtype: string;
  readonly size: number;
  readonly shape: number[];
  /** Collections after this count have examined it (found it reachable, if it is still held). */
  readonly registeredBefore: number;
}

/** EngineLike leaves disposeTensor out; the engine of tfjs-core 4.22 has it (engine.js). */
interface DisposingEngine extends EngineLike {
  disposeTensor(tensor: TensorLike | HeldTensor): void;
}

/** Called with no options: node 20's gc({ type: 'major' }) collects without scheduling finalizers (measured). */
type Collect = () => void;

/** What the finalizer needs to know of devices: where a buffer lives and what each device holds. */
export interface DeviceBytes {
  deviceOf(dataId: DataId): string | null;
  /**
   * Bytes a buffer takes in its device's memory (a bool is 4 bytes on a GPU; 0 for a GPU's tensor
   * whose values tfjs keeps in a host array); 0 once it is gone.
   */
  bytesOf(dataId: DataId): number;
  /** Live bytes per device now, in each device's own memory. */
  live(): Record<string, number>;
}

/** What a collection freed, by device: tensors (objects) and the bytes their devices gave back. */
export type FreedByDevice = Record<string, { tensors: number; bytes: number }>;

export interface FinalizerOptions {
  /** Growth of a device's live bytes since the last collection that calls for one at once (default for every device). */
  pressureBytes?: number;
  /** Idle time after a cell before the full GC that frees what it dropped. */
  idleMs?: number;
  /** The most of the kernel's time the idle full GCs may take (each costs 10–250 ms: see below). */
  gcShare?: number;
  /**
   * The created-tensor list is cleared of disposed tensors when it grows past this. Small, so a
   * tidy loop's dead tensors die young: held across scavenges they get copied and promoted. A tiny
   * op measured +0.2 µs with 64 and +0.6 µs with 1024 (quiet 16-core host, separate processes).
   */
  listLimit?: number;
}

/** Tensors handed to the GC and not yet freed, by device. */
export interface AwaitingCollection {
  device: string;
  /** Registered since the last full collection: what the next one may free. */
  tensors: number;
  bytes: number;
}

export interface Collection {
  /** Tensors and bytes the collection freed, by device. */
  freed: FreedByDevice;
  /** Tensors still held by the GC's registry after it: reachable from user code. */
  reachable: number;
  ms: number;
}

export const PRESSURE_BYTES = 256 * 1024 * 1024;
const IDLE_MS = 200;
const GC_SHARE = 0.1;
const LIST_LIMIT = 64;
/** Finalizers run as tasks of their own after a full GC; this many turns of the event loop is ample (measured: 1). */
const FINALIZER_TURNS = 8;

export function isVariable(tensor: TensorLike): boolean {
  return 'trainable' in tensor && typeof (tensor as { assign?: unknown }).assign === 'function';
}

/**
 * `gc` without starting node with --expose-gc: the flag is read when a context is made, so one
 * throwaway context gets it, and the flag is turned off again so the notebook's contexts do not.
 */
function exposeGc(): Collect | null {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as Collect;
  try {
    v8.setFlagsFromString('--expose-gc');
    const collect = vm.runInNewContext('gc') as unknown;
    v8.setFlagsFromString('--no-expose-gc');
    return typeof collect === 'function' ? collect as Collect : null;
  } catch {
    return null;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Why full GCs, in idle time: V8's scavenger (node 20, V8 11.3) keeps every FinalizationRegistry
 * target alive, so a minor GC (0.3 ms) never frees one; only a full GC does. With the TypeScript
 * compiler resident that costs 11 ms for a 42 MiB heap on a quiet 16-core host, and 140–270 ms
 * for the kernel's ~100 MiB heap on a busy 2-core one. After every cell it would multiply a small
 * cell's latency (`1+1` takes ~5 ms), so it runs once the kernel has been idle a moment (a person
 * reading the output), within a share of the time, and at once only under memory pressure.
 */
export class TensorFinalizer {
  /** Tensors made since they were last handed to the GC, in the order tfjs made them. */
  private created: TensorLike[] = [];
  private listLimit: number;
  private readonly baseListLimit: number;
  /** Elements made since the last pressure check: a loop of big tensors checks sooner than the list says. */
  private createdElements = 0;
  private checkElements: number;
  private readonly idleMs: number;
  private readonly gcShare: number;
  private readonly defaultPressure: number;
  /** Per-device pressure thresholds set with %gc pressure. */
  private readonly pressure = new Map<string, number>();
  /** Each device's least live bytes since the last collection: growth is measured from there. */
  private readonly lowWater = new Map<string, number>();
  private readonly registry: FinalizationRegistry<HeldTensor>;
  private readonly collect: Collect | null;
  /** Registered tensors, so that a dispose() by the user takes them out (no second dispose later). */
  private readonly registered = new WeakMap<TensorLike, HeldTensor>();
  /** Registered and not yet freed, by the GC or by the user's own dispose(). */
  private readonly pending = new Set<HeldTensor>();
  /** Full collections run so far. */
  private collections = 0;
  /** Set when tensors were handed over since the last idle collection was planned or run. */
  private handedOver = false;
  /** Tensors the finalizers have freed, by device, since the counter was last taken (collectNow). */
  private freedTensors: Record<string, number> = {};
  /** Code disposed a tensor (x.dispose(), tf.dispose, a variable's or a model's dispose) since the last take, not these finalizers. */
  private disposedByUser = false;
  /** This finalizer's own dispose is under way: not the user's. */
  private freeing = false;
  /** Whether the code disposing now is the running cell's (a timer an earlier cell left is not); never throws. */
  ownsDispose: () => boolean = () => true;
  private idleTimer: NodeJS.Timeout | null = null;
  private lastGcEnded = -Infinity;
  private lastGcMs = 0;

  constructor(private readonly engine: EngineLike, private readonly devices: DeviceBytes, options: FinalizerOptions = {}) {
    this.defaultPressure = options.pressureBytes ?? PRESSURE_BYTES;
    this.idleMs = options.idleMs ?? IDLE_MS;
    this.gcShare = options.gcShare ?? GC_SHARE;
    this.baseListLimit = options.listLimit ?? LIST_LIMIT;
    this.listLimit = this.baseListLimit;
    this.checkElements = TensorFinalizer.checkEvery(this.defaultPressure);
    this.collect = exposeGc();
    // Runs as a task of its own, between cells or inside an awaiting one: disposal must be safe at
    // any time, and it is, since nothing but this entry can reach the data any more.
    this.registry = new FinalizationRegistry((held) => this.free(held));
  }

  /** Goes on top of Placement's hooks: install it after Placement.install(). */
  install(): void {
    const engine = this.engine as DisposingEngine;
    const track = engine.trackTensor;
    const dispose = engine.disposeTensor;
    const finalizer = this;
    engine.trackTensor = function trackTensor(tensor: TensorLike, backend: BackendLike): void {
      track.call(this, tensor, backend);
      const listed = finalizer.created.push(tensor);
      if (listed > finalizer.listLimit || (finalizer.createdElements += tensor.size) > finalizer.checkElements) finalizer.compact();
    };
    // Every dispose comes through here (x.dispose(), tf.dispose, tidy's end, a variable's): one the
    // user makes of a registered tensor takes it out of the registry, so its finalizer never gives
    // back a second reference that a view or clone still counts on.
    engine.disposeTensor = function disposeTensor(tensor: TensorLike | HeldTensor): void {
      if (!finalizer.freeing && !finalizer.disposedByUser && finalizer.ownsDispose()) finalizer.disposedByUser = true;
      const held = finalizer.registered.get(tensor as TensorLike);
      if (held !== undefined) {
        finalizer.registered.delete(tensor as TensorLike);
        finalizer.registry.unregister(tensor);
        finalizer.pending.delete(held);
      }
      dispose.call(this, tensor);
    };
  }

  /** A cell starts: the kernel is not idle. */
  beginCell(): void {
    this.cancelIdleGc();
    this.compact();
    this.disposedByUser = false;
  }

  /**
   * Whether code disposed a tensor since the cell began (x.dispose(), tf.dispose, a model's
   * dispose(): their variables): the cell touched tensors. Frees by the finalizers (the GC's, at
   * any time) do not count.
   */
  takeDisposedByUser(): boolean {
    const disposed = this.disposedByUser;
    this.disposedByUser = false;
    return disposed;
  }

  /** Hands every tensor made since the last hand-over to the GC, and plans the collection that frees the dropped ones. */
  endCell(): void {
    this.handOver(this.collections);
    if (this.underPressure()) this.fullGc();
    // A pressure collection in the cell may have run while a tensor it handed over was still in use:
    // what the cell dropped since then is left to the idle one.
    if (this.handedOver) this.planIdleGc();
  }

  /**
   * Collects now (%gc): a full GC, then the turns its finalizers need. The bytes freed are what each
   * device's live bytes fell by (views and clones share a buffer: it is freed once, with the last).
   */
  async collectNow(): Promise<Collection> {
    this.handOver(this.collections);
    const liveBefore = this.devices.live();
    this.freedTensors = {};
    const started = performance.now();
    this.fullGc();
    for (let turn = 0; turn < FINALIZER_TURNS; turn++) await nextTurn();
    const liveAfter = this.devices.live();
    const freed: FreedByDevice = {};
    for (const [device, tensors] of Object.entries(this.freedTensors)) {
      freed[device] = { tensors, bytes: Math.max(0, (liveBefore[device] ?? 0) - (liveAfter[device] ?? 0)) };
    }
    return { freed, reachable: this.pending.size, ms: performance.now() - started };
  }

  /** Tensors registered since the last full collection and not yet freed, by device (%memory). */
  awaiting(): AwaitingCollection[] {
    const unexamined = [...this.pending].filter((held) => held.registeredBefore >= this.collections);
    return Object.entries(this.byDevice(unexamined)).map(([device, entry]) => ({ device, ...entry }));
  }

  /** Growth of live bytes that collects at once, for `device` (or every device without one set). */
  pressureOf(device: string): number {
    return this.pressure.get(device) ?? this.defaultPressure;
  }

  setPressure(device: string, bytes: number): void {
    this.pressure.set(device, bytes);
    this.checkElements = TensorFinalizer.checkEvery(Math.min(this.defaultPressure, ...this.pressure.values()));
  }

  /** A quarter of the lowest threshold in float32 elements: the pressure check runs about 4× per threshold grown. */
  private static checkEvery(bytes: number): number {
    return Math.max(1, Math.floor(bytes / 16));
  }

  /** Tensors by device, and the bytes of their buffers, each buffer once (views and clones share one). */
  private byDevice(helds: Iterable<HeldTensor>): Record<string, { tensors: number; bytes: number }> {
    const result: Record<string, { tensors: number; bytes: number }> = {};
    const counted = new Set<DataId>();
    for (const held of helds) {
      const device = this.devices.deviceOf(held.dataId);
      if (device === null) continue;
      const entry = result[device] ??= { tensors: 0, bytes: 0 };
      entry.tensors++;
      if (counted.has(held.dataId)) continue;
      counted.add(held.dataId);
      entry.bytes += this.devices.bytesOf(held.dataId);
    }
    return result;
  }

  /** True when some device's live bytes grew past its threshold since its low-water mark. */
  private underPressure(): boolean {
    let pressed = false;
    for (const [device, bytes] of Object.entries(this.devices.live())) {
      // A device seen for the first time starts from nothing: its first big tensor counts too.
      const low = Math.min(this.lowWater.get(device) ?? 0, bytes);
      this.lowWater.set(device, low);
      if (bytes - low > this.pressureOf(device)) pressed = true;
    }
    return pressed;
  }

  private planIdleGc(): void {
    if (this.collect === null) return;
    this.cancelIdleGc();
    const allowedAt = this.lastGcEnded + this.lastGcMs / this.gcShare;
    const delay = Math.max(this.idleMs, allowedAt - performance.now());
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      // Tensors made between cells (a timer's, a late continuation's) are handed over too.
      this.handOver(this.collections);
      this.handedOver = false;
      this.fullGc();
    }, delay);
    this.idleTimer.unref();
  }

  private cancelIdleGc(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private fullGc(): void {
    if (this.collect === null) return;
    this.cancelIdleGc();
    const started = performance.now();
    this.collections++;
    this.collect();
    this.lastGcEnded = performance.now();
    this.lastGcMs = this.lastGcEnded - started;
    // Growth is measured afresh from here; the finalizers' frees lower the marks as they run.
    for (const [device, bytes] of Object.entries(this.devices.live())) this.lowWater.set(device, bytes);
  }

  /**
   * Registers every listed tensor still undisposed (variables stay tfjs's), and drops the list.
   * `examinedAfter`: the collection count after which a collection has looked at them.
   */
  private handOver(examinedAfter: number): void {
    const created = this.created;
    this.created = [];
    this.listLimit = this.baseListLimit;
    this.createdElements = 0;
    for (const tensor of created) {
      if (tensor.isDisposed || isVariable(tensor) || this.registered.has(tensor)) continue;
      this.register(tensor, examinedAfter);
    }
    if (created.length > 0) this.handedOver = true;
    // Emptied in place: a caller may still hold the array, and with it every tensor, through a GC.
    created.length = 0;
  }

  /**
   * `tensor` holds other data now (a move gave it a buffer of its own, tensor-moves.ts unshare): its
   * finalizer must give back a reference of that one, not of the buffer it shared with the others.
   */
  retarget(tensor: TensorLike): void {
    const held = this.registered.get(tensor);
    if (held === undefined || held.dataId === tensor.dataId) return;
    this.registered.delete(tensor);
    this.registry.unregister(tensor);
    this.pending.delete(held);
    this.register(tensor, held.registeredBefore);
  }

  private register(tensor: TensorLike, examinedAfter: number): void {
    // Holds no reference to the tensor, or the registry would keep it alive.
    const held: HeldTensor = { dataId: tensor.dataId, dtype: tensor.dtype, size: tensor.size, shape: tensor.shape, registeredBefore: examinedAfter };
    this.registered.set(tensor, held);
    this.pending.add(held);
    this.registry.register(tensor, held, tensor);
  }

  private free(held: HeldTensor): void {
    if (!this.pending.delete(held)) return;
    const device = this.devices.deviceOf(held.dataId);
    // A lost device or a reset engine may have dropped the data already: disposeTensor ignores it then.
    this.freeing = true;
    try {
      (this.engine as DisposingEngine).disposeTensor(held);
    } finally {
      this.freeing = false;
    }
    if (device === null) return;
    this.freedTensors[device] = (this.freedTensors[device] ?? 0) + 1;
    const live = this.devices.live()[device];
    if (live !== undefined && live < (this.lowWater.get(device) ?? Infinity)) this.lowWater.set(device, live);
  }

  private compact(): void {
    // In place: a new array per compaction would be garbage on the per-op path.
    const created = this.created;
    let kept = 0;
    for (let i = 0; i < created.length; i++) {
      const tensor = created[i]!;
      if (!tensor.isDisposed) created[kept++] = tensor;
    }
    created.length = kept;
    this.createdElements = 0;
    // Under device-memory pressure a long cell that forgets dispose() must not wait for its end:
    // what its loop dropped is freed at its next await (finalizers run as tasks, so a loop that
    // never awaits gets nothing back until it ends). The op in flight still holds its tensors, so
    // this collection does not count as having examined them.
    if (this.collect !== null && kept > 0 && this.underPressure()) {
      this.handOver(this.collections + 1);
      this.fullGc();
      return;
    }
    // Doubling keeps a long cell that holds many live tensors from compacting on every op.
    this.listLimit = Math.max(this.baseListLimit, kept * 2);
  }
}
