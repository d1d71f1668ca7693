// The device layer as magics and the interpreter see it: a narrow interface, so neither reaches
// into tfjs or WebGPU.
import type { MovesTime } from './covered-time';

export type DevicePolicy = 'auto' | 'warn' | 'strict';

export interface DeviceInfo {
  /** Canonical name: `cpu`, `gpu:0`, … */
  name: string;
  kind: 'cpu' | 'gpu';
  /** What backs it: `wasm (SIMD)`, `WebGPU (Vulkan): NVIDIA H100`, … */
  description: string;
  /** A GPU emulated on the CPU (lavapipe): its figures are not a GPU's. */
  software: boolean;
  /** `ready` once initialised; `available` before first use; `lost` after a device loss. */
  state: 'ready' | 'available' | 'lost';
}

export type Direction = 'H2D' | 'D2H' | 'D2D' | 'host';

/**
 * Part of a move spent waiting before its bytes could cross: for a GPU's queued work (the time its
 * passes ran, by its timestamps), `gpu-latency`: the rest of the round trip through the GPU's queue
 * (submitting, the driver starting the work and signalling the fence, the poll seeing it) while the
 * GPU ran none of that work, for staging buffers being made, or `host-busy`: what the move waited
 * for had ended, but the thread was running other code (the cell's own, between data() and its
 * await) and saw it later; `gc`: that time, or the kernel's, was a garbage collection pausing the
 * thread (timing/collections.ts); or `tsgpu`: the kernel's own work on the user's call (the
 * wrapper that locates the call's line, choosing the path, recording the move), which a loop of
 * small moves pays once per move and which the rest leave out (see TensorMoves' calledAt).
 */
export interface MoveWait {
  cause: 'gpu-work' | 'gpu-latency' | 'gpu-setup' | 'staging-setup' | 'host-busy' | 'gc' | 'tsgpu';
  ms: number;
  /** The device that was busy (gpu-work), whose queue it went through, whose staging buffers were made, or whose wait the host saw late. */
  device: string;
  /** gpu-work queued by earlier cells (their numbers), not by this one. */
  earlierCells: number[];
  /**
   * The wait came after the copy, not before it: the cell's code or the kernel's work on calls
   * between a write and its record, and the move's answer on its way back to the cell's code. A
   * move's waits run in order from its start, these after its copy.
   */
  afterCopy?: true;
  /**
   * A collection's wait (`gc`) lies where the collection did, this many ms from the move's start,
   * not in order after the waits before it: a collection's time is known, the other waits' order
   * only.
   */
  from?: number;
}

/** One leg of a move between two GPUs, which goes through the host: GPU → cpu, then cpu → GPU. */
export interface MoveLeg {
  from: string;
  to: string;
  /** Bytes this leg carried (0 for a first leg served from a host copy a read had kept). */
  bytes: number;
  waitMs: number;
  copyMs: number;
  waits: MoveWait[];
}

export interface TransferRecord {
  direction: Direction;
  from: string;
  to: string;
  /** Bytes that crossed the bus (a bool crosses as 4 bytes per element, as the GPU holds it). */
  bytes: number;
  /** waitMs + copyMs: the whole move as the caller waited for it. */
  ms: number;
  /** Waiting before the copy (see waits); GB/s never counts it. */
  waitMs: number;
  /** The bytes crossing: from the first leaving their source to the last landing. */
  copyMs: number;
  waits: MoveWait[];
  /** `explicit` for .to()/.cpu()/.data()…, `implicit` for moves the auto policy made for an op. */
  cause: 'explicit' | 'implicit';
  /** The op or method that moved it: `MatMul`, `to`, `data`. */
  operation: string;
  /** The cell and line that caused it, when known. */
  cell: number | null;
  line: number | null;
  /** When it started, in ms since its cell started (it ended at + ms). */
  at: number;
  /** A 0-d tensor (a learning rate, a constant): allowed everywhere, reported apart. */
  scalar: boolean;
  /** What made it, and which call of that: the hints blame only what the user can change. */
  via: MoveOrigin;
  /** Its line lies inside a loop the user wrote (for, while, .forEach…), in the cell that line is in. */
  inLoop: boolean;
  /** That loop runs the line only on some of its iterations (`if (step % 50 === 0)`); absent otherwise. */
  someIterations?: true;
  /** An implicit move that took a tensor back off the device the user had explicitly moved it to. */
  reverses: ReversedMove | null;
  /** An implicit move: the op's input already on the destination, which drew the op there (absent when not known). */
  anchor?: MoveAnchor;
  /** An implicit move: the variable the op's line passed as the moved input (`z` of `x.matMul(z)`), where the line says. */
  input?: string;
  /** D2D only: the two legs through the host; ms, waitMs and copyMs are their sums. */
  legs?: MoveLeg[];
  /**
   * Host values a tensor was made from on a GPU, uploaded by tfjs inside the first op that used
   * them: bytes exact, time not measured (ms, waitMs and copyMs are 0). cell and line say where
   * the tensor was made.
   */
  untimed?: true;
  /**
   * Of those, a tensor a library call made of its own from host values inside it (fit's batch
   * indices, its constants): none of the user's data, nothing for the user to move. Not one an op
   * computed from what it was given (predict's slice of an input left in a host array).
   */
  callsOwn?: true;
  /** `input` names the model whose weight moved (the call's receiver), not the tensor itself. */
  modelInput?: true;
  /** When cell and line call a function that made the move: the line in that function (and its cell). */
  helper?: { cell: number; line: number };
}

/**
 * Who made a move: `user` (the user's own statement: x.to(), x.data(), an op's implicit move),
 * `library` (a tfjs-layers call the user made: fit, predict, trainOnBatch… and what it runs, its
 * callbacks included), `kernel` (a kernel helper: model.to, progress.fit).
 */
export interface MoveOrigin {
  by: 'user' | 'library' | 'kernel';
  /** The library call or helper (`fit`, `model.to`); the method for the user's own (`to`, `data`), or null for an op. */
  call: string | null;
  /** One call: the 20 moves of one model.to share it; a loop's moves each have their own. */
  invocation: number;
  /** fit only: a callback takes every batch's logs (onBatchEnd), so tfjs-layers reads them back after each batch. */
  perBatchLogs?: boolean;
}

/** The explicit move an implicit one undid: the tensor had been moved to `from` by `operation` in `cell`. */
export interface ReversedMove {
  operation: string;
  cell: number;
  /** The implicit move's destination is the current device (%device), where new inputs are made. */
  toCurrentDevice: boolean;
}

/** The input that drew an op to a device, as the policy's hints name it. */
export interface MoveAnchor {
  /** A variable's name ('dense_Dense1/kernel'; digits for one tfjs numbered), null for a plain tensor. */
  name: string | null;
  /** Who put it on that device, when known: the user's move, or the policy's for an earlier op. */
  placedBy: { by: 'user' | 'policy'; operation: string; cell: number } | null;
  /** It is on the current device (%device), where new tensors, tfjs's own among them, are made. */
  onCurrentDevice: boolean;
  /**
   * How the line names it, where it does: the other input `w` of `h.matMul(w)`; the argument of a
   * library call that holds it, or the model a weight belongs to (`net` of `net.fit(…)`).
   */
  said?: string;
}

/** Moves of one kind from one place, folded together. */
export interface FoldedMoves {
  direction: TransferRecord['direction'];
  from: string;
  to: string;
  cause: TransferRecord['cause'];
  operation: string;
  cell: number | null;
  line: number | null;
  count: number;
  bytes: number;
  ms: number;
  waitMs: number;
  copyMs: number;
  /** Uploads at first use, whose time was not measured (never folded with timed moves). */
  untimed?: true;
  /** 0-d tensors (never folded with others): the scalar hints count them. */
  scalar?: true;
}

/**
 * A cell's folded moves of one direction, timed as one: what the report line adds to the union of
 * the moves it still has one by one (overlapping moves once, as %transfers counts them).
 */
export interface FoldedTimeOf {
  direction: TransferRecord['direction'];
  /** The union of the folded moves' intervals, and of their copies. */
  ms: number;
  copyMs: number;
  /** When the last folded move ended, in ms since the cell started: kept moves count only past it. */
  end: number;
  /** The folded moves' waits by what they were for: the time each covered that no copy did. */
  waits: MoveWait[];
}

/** What %transfers shows: moves one by one, and older ones folded per line. */
export interface TransferListing {
  moves: TransferRecord[];
  folded: FoldedMoves[];
  /** How many moves the folded lines stand for. */
  foldedCount: number;
  /**
   * One row per kind of move and place, kept and folded moves together. A row's ms is the
   * wall-clock union of its moves (reads of one Promise.all once), copyMs the union of their
   * copies, waitMs the rest: as the cell's report line counts them, not each move's time summed.
   */
  rows: FoldedMoves[];
  /** All the listed moves' wall-clock time, counted the same way. */
  time: MovesTime;
}

export interface DeviceMemory {
  device: string;
  /** Live tensors in the device's own memory (GPU buffers for a GPU), and their buffers. */
  liveBytes: number;
  tensors: number;
  /**
   * A GPU's live tensors whose values its tfjs backend keeps in host arrays (made from host values
   * and not used by a GPU op yet, or results of ops it ran on the CPU): host memory, not in
   * liveBytes. null for the host.
   */
  heldOnHostBytes: number | null;
  /** GPU memory held by the backend's buffer pool beyond live tensors, where known. */
  pooledBytes: number | null;
  /** Host↔GPU staging buffers held for moves (bounded), where the device has them. */
  stagingBytes: number | null;
  /** Tensors handed to the garbage collector since its last full collection: what the next one may free. */
  awaitingGcBytes: number;
  /** Growth of live bytes since the last collection that collects at once. */
  gcPressureBytes: number;
}

/** What a collection (%gc) freed, by device, and how many handed-over tensors are still reachable. */
export interface GarbageCollection {
  freed: Record<string, { tensors: number; bytes: number }>;
  reachable: number;
  ms: number;
  /** Bytes of pooled GPU buffers given back to each device. */
  released: Record<string, number>;
  /** Variables (model weights, optimizer state): tfjs frees them only on dispose(). */
  variables: { count: number; bytes: number };
}

export interface DeviceControl {
  /** Every device, discovering GPUs on first call. */
  list(): Promise<DeviceInfo[]>;
  /** Why no GPU is listed (no Vulkan loader, no driver), with how to fix it; empty when GPUs were found. */
  problems(): string[];
  current(): string;
  /** The canonical name of a device (aliases accepted); a DeviceError listing the devices for a name that is none. */
  resolve(name: string): Promise<string>;
  /** Accepts aliases (`gpu`, `cuda:0`, `auto`); initialises the device; resolves with its canonical name. */
  setCurrent(name: string): Promise<string>;
  /** Runs `run` with `name` as the current device, then restores the previous one. */
  withDevice<T>(name: string, run: () => Promise<T>): Promise<T>;
  policy: DevicePolicy;
  memory(): DeviceMemory[];
  /** A full garbage collection now, the tensors its finalizers freed, and the GPUs' pooled buffers released. */
  collectGarbage(): Promise<GarbageCollection>;
  /** Sets the live-byte growth on `device` that collects at once; resolves with the canonical name. */
  setGcPressure(device: string, bytes: number): Promise<string>;
  /** Transfers of the last cell that touched tensors, or of the whole session. */
  transfers(scope: 'last' | 'all'): TransferListing;
  resetTransfers(): void;
  /** Resolves once every device has finished its queued work. */
  synchronize(): Promise<void>;
  /** The report after each cell that touched tensors: off, compact (no timeline) or full. */
  report: 'off' | 'compact' | 'full';
  /** %placement on: each cell also lists its ops with their devices, summarised. */
  placementLog: boolean;
  /** %profile on: each cell's report adds a per-op table (host and GPU time, bytes in/out). */
  profile: boolean;
}
