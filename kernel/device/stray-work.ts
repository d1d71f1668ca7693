// Work an earlier cell left running (an unawaited promise, a timer) that ran during this cell:
// not counted in this cell's report, and said apart in one line.
import { DETACHED_CELL } from '../interpreter/cell-hooks';
import type { DeviceActivity } from './placement';

export class StrayWork {
  /** Cells whose leftover work did ops or moves while this cell ran, and those moves. */
  private readonly cells = new Set<number>();
  private moves = 0;

  /** Whether work of cell `owner` (null: the kernel's own) counts as cell `running`'s. */
  owns(owner: number | null, running: number): boolean {
    if (owner === null || owner === running) return true;
    // Detached work is left out of every report without a word: it was meant to outlive its cell.
    if (owner !== DETACHED_CELL) this.cells.add(owner);
    return false;
  }

  countMove(): void {
    this.moves++;
  }

  /** One line about other cells' work that ran during this one (given its ops), so its report is this cell's alone. */
  takeLine(strayOps: Record<string, DeviceActivity>): string | null {
    const ops = Object.entries(strayOps).filter(([, done]) => done.ops > 0);
    const cells = [...this.cells].sort((a, b) => a - b);
    const moves = this.moves;
    this.cells.clear();
    this.moves = 0;
    if (cells.length === 0 || (ops.length === 0 && moves === 0)) return null;
    const did = [...ops.map(([device, done]) => `${done.ops} op${done.ops === 1 ? '' : 's'} on ${device}`), ...(moves > 0 ? [`${moves} move${moves === 1 ? '' : 's'}`] : [])];
    return `tsgpu: work still running from cell${cells.length > 1 ? 's' : ''} ${cells.join(', ')} did ${did.join(', ')} while this cell ran; `
      + 'it is not counted in this report (await it in its own cell, or detach() work meant to outlive it).\n';
  }
}
