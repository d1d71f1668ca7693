// Frees intermediates no name ever held (`x = tf.randomNormal([64, 64]).add(1)`: the randomNormal
// result). They cannot be disposed outright, since a closure may still use one, and only the
// garbage collector knows. A FinalizationRegistry entry per op would cost far more than the
// per-op budget (0.5 µs), so ops only push the new tensor on a list; at the end of a cell the
// unnamed survivors are registered, our references dropped, and a full GC frees their data.
import v8 from 'node:v8';
import vm from 'node:vm';
import type { BackendLike, DataId, EngineLike, TensorLike } from './engine-internals';
import { isVariable } from './memory-sweep';

/** What engine.disposeTensor reads of a tensor (tfjs-core 4.22 engine.js), kept after the tensor is gone. */
interface HeldTensor {
  readonly dataId: DataId;
  readonly dtype: string;
  readonly size: number;
  readonly shape: number[];
  readonly bytes: number;
  /** Set once its data was disposed, by the user or by the finalizer: never twice. */
  done: boolean;
}

/** EngineLike leaves disposeTensor out; the engine of tfjs-core 4.22 has it (engine.js). */
interface DisposingEngine extends EngineLike {
  disposeTensor(tensor: HeldTensor): void;
}

/** Called with no options: node 20's gc({ type: 'major' }) collects without scheduling finalizers (measured). */
type Collect = () => void;

export interface FinalizerOptions {
  /** Unfreed registered bytes (beyond those that outlived the last full GC) that call for a full GC at once. */
  pressureBytes?: number;
  /** Idle time after a cell before the full GC that frees its intermediates. */
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

export interface CellFinalization {
  /** Tensors handed to the GC at this cell's end, and their bytes. */
  registered: number;
  bytes: number;
  /** ms of full GC run at this cell's end (memory pressure); 0 when it was left to idle time. */
  gcMs: number;
}

const PRESSURE_BYTES = 256 * 1024 * 1024;
const IDLE_MS = 200;
const GC_SHARE = 0.1;
const LIST_LIMIT = 64;
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

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

/**
 * Why full GCs, in idle time: V8's scavenger (node 20, V8 11.3) keeps every FinalizationRegistry
 * target alive, so a minor GC (0.3 ms) never frees one; only a full GC does. With the TypeScript
 * compiler resident that costs 11 ms for a 42 MiB heap on a quiet 16-core host, and 140–270 ms
 * for the kernel's ~100 MiB heap on a busy 2-core one. After every cell it would multiply a small
 * cell's latency (`1+1` takes ~5 ms), so it runs once the kernel has been idle a moment (a person
 * reading the output), within a share of the time, and at a cell's end only under memory pressure.
 */
export class TensorFinalizer {
  /** Tensors made since the last cell ended (and between cells), in the order tfjs made them. */
  private created: TensorLike[] = [];
  private listLimit: number;
  private readonly baseListLimit: number;
  private readonly pressureBytes: number;
  private readonly idleMs: number;
  private readonly gcShare: number;
  private readonly registry: FinalizationRegistry<HeldTensor>;
  private readonly collect: Collect | null;
  /** Registered and not yet freed, by the GC or by the user's own dispose(). */
  private pendingBytes = 0;
  private pendingCount = 0;
  /** What outlived the last full GC (closure-held tensors): no reason for another. */
  private survivorBytes = 0;
  private survivorCount = 0;
  private afterFullGc = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private lastGcEnded = -Infinity;
  private lastGcMs = 0;

  constructor(private readonly engine: EngineLike, options: FinalizerOptions = {}) {
    this.pressureBytes = options.pressureBytes ?? PRESSURE_BYTES;
    this.idleMs = options.idleMs ?? IDLE_MS;
    this.gcShare = options.gcShare ?? GC_SHARE;
    this.baseListLimit = options.listLimit ?? LIST_LIMIT;
    this.listLimit = this.baseListLimit;
    this.collect = exposeGc();
    // Runs as a task of its own, between cells or inside an awaiting one: disposal must be safe at
    // any time, and it is, since nothing but this entry can reach the data any more.
    this.registry = new FinalizationRegistry((held) => this.free(held));
  }

  /** Goes on top of Placement's hooks: install it after Placement.install(). */
  install(): void {
    const previous = this.engine.trackTensor;
    const finalizer = this;
    this.engine.trackTensor = function trackTensor(tensor: TensorLike, backend: BackendLike): void {
      previous.call(this, tensor, backend);
      if (finalizer.created.push(tensor) > finalizer.listLimit) finalizer.compact();
    };
  }

  /** A cell starts: the kernel is not idle. Tensors made between cells stay listed for its end. */
  beginCell(): void {
    this.cancelIdleGc();
    this.compact();
  }

  /**
   * Hands the GC every tensor made since the last cell ended that is still undisposed, not kept,
   * not a variable, and not reachable by a name (those are MemorySweep's), and plans the full GC
   * that frees them.
   */
  endCell(reachable: ReadonlySet<TensorLike>): CellFinalization {
    if (this.afterFullGc) {
      // Its finalizers have run by now (a cell is a task of its own): what is left lives.
      this.survivorBytes = this.pendingBytes;
      this.survivorCount = this.pendingCount;
      this.afterFullGc = false;
    }
    this.survivorBytes = Math.min(this.survivorBytes, this.pendingBytes);
    this.survivorCount = Math.min(this.survivorCount, this.pendingCount);
    // In a frame of its own, so no tensor is left on this one's stack for the GC to find.
    const { registered, bytes } = this.registerUnnamed(reachable);
    let gcMs = 0;
    if (this.pendingBytes - this.survivorBytes > this.pressureBytes) gcMs = this.fullGc();
    else if (this.pendingCount > this.survivorCount) this.planIdleGc();
    return { registered, bytes, gcMs };
  }

  /** Registered and not yet freed: what %memory could show as awaiting the GC. */
  get pending(): { tensors: number; bytes: number } {
    return { tensors: this.pendingCount, bytes: this.pendingBytes };
  }

  private planIdleGc(): void {
    if (this.collect === null) return;
    this.cancelIdleGc();
    const allowedAt = this.lastGcEnded + this.lastGcMs / this.gcShare;
    const delay = Math.max(this.idleMs, allowedAt - performance.now());
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.fullGc();
    }, delay);
    this.idleTimer.unref();
  }

  private cancelIdleGc(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private fullGc(): number {
    if (this.collect === null) return 0;
    this.cancelIdleGc();
    const started = performance.now();
    this.collect();
    this.lastGcEnded = performance.now();
    this.lastGcMs = this.lastGcEnded - started;
    this.afterFullGc = true;
    return this.lastGcMs;
  }

  private registerUnnamed(reachable: ReadonlySet<TensorLike>): { registered: number; bytes: number } {
    const created = this.created;
    this.created = [];
    this.listLimit = this.baseListLimit;
    let registered = 0;
    let bytes = 0;
    for (const tensor of created) {
      if (tensor.isDisposed || tensor.kept || reachable.has(tensor) || isVariable(tensor)) continue;
      // tfjs tracks a tensor twice when it is re-tracked (incRef); its dispose is ours once registered.
      if (Object.hasOwn(tensor, 'dispose')) continue;
      bytes += this.register(tensor);
      registered++;
    }
    return { registered, bytes };
  }

  private register(tensor: TensorLike): number {
    const info = this.engine.state.tensorInfo.get(tensor.dataId);
    const bytes = info?.bytes ?? tensor.size * (BYTES_PER_ELEMENT[tensor.dtype] ?? 4);
    // Holds no reference to the tensor, or the registry would keep it alive.
    const held: HeldTensor = { dataId: tensor.dataId, dtype: tensor.dtype, size: tensor.size, shape: tensor.shape, bytes, done: false };
    const registry = this.registry;
    const finalizer = this;
    const dispose = tensor.dispose;
    // A reshape or clone shares its dataId under a reference count: a tensor the user disposes
    // after this must not be disposed again by its finalizer, or the sharer would lose its data.
    tensor.dispose = function disposeRegistered(this: TensorLike): void {
      if (!held.done) {
        held.done = true;
        registry.unregister(this);
        finalizer.pendingBytes -= held.bytes;
        finalizer.pendingCount--;
      }
      dispose.call(this);
    };
    this.registry.register(tensor, held, tensor);
    this.pendingBytes += bytes;
    this.pendingCount++;
    return bytes;
  }

  private free(held: HeldTensor): void {
    if (held.done) return;
    held.done = true;
    this.pendingBytes -= held.bytes;
    this.pendingCount--;
    // A lost device or a reset engine may have dropped the data already: disposeTensor ignores it then.
    (this.engine as DisposingEngine).disposeTensor(held);
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
    // Doubling keeps a long cell that holds many live tensors from compacting on every op.
    this.listLimit = Math.max(this.baseListLimit, kept * 2);
  }
}
