// What the interpreter tells the layers that hang off it (devices, the report) about each cell,
// and the one thing it answers them: where in the notebook the running code is.
import type { CellReport } from '../display/report/cell-report';

/** A cell's device report as data, and how much of it to show: the interpreter has the display layer render it. */
export interface ReportToShow {
  report: CellReport;
  mode: 'compact' | 'full';
}

export interface CellHooks {
  /**
   * Before a cell is type-checked: load what its code needs (the device layer when it touches
   * tensors). Resolves with declaration files the checker must see from now on.
   */
  prepare(code: string): Promise<string[]>;
  /** When a cell starts (before its magics and code), with what the layers may know of its source. */
  beforeRun(executionCount: number, source: CellSource): void;
  /** After it ran (or failed), before the reply: free what it left unreachable; the cell's report, or null for none. */
  afterRun(executionCount: number): Promise<ReportToShow | null>;
  /** Faults a device reported while the cell ran (out of memory, validation, a lost device): the cell's error. */
  faults(): Promise<string | null>;
}

/**
 * The cell that work started with detach() belongs to: none, since cells count from 1. The
 * device layer leaves such work out of every report; it was meant to outlive its cell.
 */
export const DETACHED_CELL = 0;

/**
 * What the layers may ask about the code running now: which cell's work it is (interpreter/
 * cell-context.ts). Each cell's asynchronous work keeps its cell, so work left over from an
 * earlier cell is known as that cell's, and stops once that cell was interrupted.
 */
export interface CellWork {
  /**
   * The execution count of the cell the running code belongs to; DETACHED_CELL for work started
   * with detach(), null for the kernel's own work. Throws the interrupt error when that cell was interrupted:
   * called before a tensor op, a move or a readback, so that work stops instead of running.
   */
  check(): number | null;
  /** The same cell, never throwing: for bookkeeping after the work is done. */
  owner(): number | null;
  /** Calls `stop` when the running code's cell is interrupted (a fit in progress); returns a canceller. */
  onInterrupt(stop: () => void): () => void;
  /**
   * A move or readback the running code is starting (called where the user's call is still on the
   * stack); the returned function is called when it settles, with its error if it failed. If its
   * cell ends before then, the cell says it was not awaited.
   */
  started(operation: string): (error?: unknown) => void;
}

/** Outside any cell: a kernel that runs no cells, or a layer's own tests. */
export const NO_CELL_WORK: CellWork = {
  check: () => null,
  owner: () => null,
  onInterrupt: () => () => undefined,
  started: () => () => undefined,
};

/** A cell's source, as far as the report's hints need it. */
export interface CellSource {
  /** Whether the cell's line (1-based) lies inside a loop the cell's code writes (for, while, do, for await, .forEach/.map… callbacks). */
  inLoop(line: number): boolean;
  /** Whether that loop runs the line only on some iterations (a branch inside it holds the line: `if (step % 50 === 0)`). */
  someIterations(line: number): boolean;
  /** The text of the cell's line (1-based); '' past its end. */
  lineText(line: number): string;
}

/** A cell whose source is not known (a bench's code run directly): no loops, no text. */
export const NO_CELL_SOURCE: CellSource = { inLoop: () => false, someIterations: () => false, lineText: () => '' };

export interface CellLocation {
  cell: number;
  line: number;
  /**
   * When this line lies in a function the running cell called (defined in this cell or an
   * earlier one): the running cell's own line that called it, its outermost frame.
   */
  callSite?: { cell: number; line: number };
}

/** No layers: a kernel whose cells never touch tensors. */
export const NO_HOOKS: CellHooks = {
  prepare: async () => [],
  beforeRun: () => undefined,
  afterRun: async () => null,
  faults: async () => null,
};
