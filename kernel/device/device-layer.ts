// The device layer as the interpreter sees it (CellHooks) and as magics see it (DeviceControl).
// Nothing here loads until a cell touches tensors or names a device: a kernel that never does
// never loads tfjs.
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-info';
import type { TransferTotals } from '../display/progress';
import { type CellHooks, type CellLocation, type CellSource, type CellWork, NO_CELL_SOURCE, type ReportToShow } from '../interpreter/cell-hooks';
import type { OutputEvent } from '../interpreter/interpreter';
import type { DeviceControl } from './device-control';
import { DeviceSession } from './session';

/** Declarations the checker needs once tensors are in play: `tf`, the tensor API, `asTensor`… */
export const TENSOR_DECLARATIONS = path.join(PACKAGE_ROOT, 'kernel', 'types', 'tensors.d.ts');

/** Code that may touch tensors or devices. A false positive only loads tfjs a little early. */
const USES_TENSORS = /\b(tf|asTensor|bestDevice|withDevice|device)\b|@tensorflow\//;
/** Code that may name a GPU: GPUs are looked for (~0.2 s) before it is checked. */
const NAMES_DEVICES = /\b(gpu|cuda|bestDevice|withDevice|device|auto)\b/;

export interface DeviceLayerDependencies {
  /**
   * Where the running code is (cell and line), for the ledger and warnings. With `frames`, only
   * that many innermost frames are looked at (cheaper; no running-cell call site).
   */
  locate(frames?: number): CellLocation | null;
  /** The stack taken now, mapped to a cell and line only when the result is called. */
  locateLater(): () => CellLocation | null;
  /** Output of the running cell (a long move's progress bar). */
  emit(event: OutputEvent): void;
  /** Whose work is running: an interrupted cell's leftover work stops, another cell's is not counted as this one's. */
  cells: CellWork;
}

/** The lazily loaded device layer: CellHooks for the interpreter, DeviceControl for magics. */
export class DeviceLayer implements CellHooks {
  private session: DeviceSession | null = null;
  private loading: Promise<DeviceSession> | null = null;
  /** The running cell, for a session that loads in the middle of it. */
  private cell = 0;
  private source: CellSource = NO_CELL_SOURCE;

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

  beforeRun(executionCount: number, source: CellSource): void {
    this.cell = executionCount;
    this.source = source;
    this.session?.beforeRun(executionCount, source);
  }

  async afterRun(): Promise<ReportToShow | null> {
    return this.session ? this.session.afterRun() : null;
  }

  synchronize(): Promise<void> {
    return this.session?.synchronize() ?? Promise.resolve();
  }

  async faults(): Promise<string | null> {
    return this.session?.faults() ?? null;
  }

  transferTotals(): TransferTotals {
    return this.session?.transferTotals() ?? { count: 0, bytes: 0, untimed: 0, ms: 0 };
  }

  private load(): Promise<DeviceSession> {
    this.loading ??= DeviceSession.load(this.deps).then((session) => {
      this.session = session;
      session.beforeRun(this.cell, this.source);
      return session;
    });
    return this.loading;
  }
}
