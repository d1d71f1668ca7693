// What the interpreter tells the layers that hang off it (devices, the report) about each cell,
// and the one thing it answers them: where in the notebook the running code is.
export interface CellHooks {
  /**
   * Before a cell is type-checked: load what its code needs (the device layer when it touches
   * tensors). Resolves with declaration files the checker must see from now on.
   */
  prepare(code: string): Promise<string[]>;
  /** When a cell starts (before its magics and code). */
  beforeRun(executionCount: number): void;
  /** After it ran (or failed), before the reply: free what it left unreachable, report. */
  afterRun(executionCount: number): Promise<void>;
  /** Faults a device reported while the cell ran (out of memory, validation, a lost device): the cell's error. */
  faults(): Promise<string | null>;
}

export interface CellLocation {
  cell: number;
  line: number;
}

/** No layers: a kernel whose cells never touch tensors. */
export const NO_HOOKS: CellHooks = {
  prepare: async () => [],
  beforeRun: () => undefined,
  afterRun: async () => undefined,
  faults: async () => null,
};
